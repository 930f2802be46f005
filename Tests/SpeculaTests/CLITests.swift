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

    @Test("an unknown flag is a one-line error with a non-zero exit")
    func unknownFlag() throws {
        let result = try SpeculaProcess.run(["tokenize", "--no-such-flag"])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("error: "))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
