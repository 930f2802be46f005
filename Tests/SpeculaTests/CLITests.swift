import Foundation
import Testing

@Suite("specula command line")
struct CLITests {
    @Test("version names the linked system libraries")
    func version() throws {
        let result = try SpeculaProcess.run(["version"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("zstd 1."))
        #expect(result.stdout.contains("nghttp2 1."))
        #expect(result.stdout.contains("openblas"))
    }

    @Test("router and serve refuse bad settings with one line before listening", arguments: [
        (["router", "--listen", "127.0.0.1:0"], "no worker token"),
        (["router", "--listen", "nowhere", "--worker-token-file", "/dev/null"], "--listen 'nowhere'"),
        (["serve", "--workers", "0"], "--workers '0': expected an integer from 1 to 64"),
        (["serve", "--port", "0", "--speculate", "maybe"], "--speculate 'maybe'"),
        (["serve", "--port", "0", "--tls-cert", "c.pem"], "--tls-cert and --tls-key go together"),
        (["serve", "--port", "0", "--api-key-file", "/no/such/keys"], "cannot be read"),
    ])
    func serviceRefusals(arguments: [String], message: String) throws {
        let result = try SpeculaProcess.run(arguments, environment: ["SPECULA_WORKER_TOKEN": ""])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("an unknown flag is a one-line error with a non-zero exit")
    func unknownFlag() throws {
        let result = try SpeculaProcess.run(["tokenize", "--no-such-flag"])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
