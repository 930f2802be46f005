import Foundation
import Testing

/// `specula bench serve` refusals: one `error:` line, non-zero exit, nothing on stdout. (The client
/// itself is tested against a streaming server in ServeBenchmarkTests.)
@Suite("specula bench serve command line")
struct BenchServeCLITests {
    static let prompts = SpeculaProcess.fixtures.appendingPathComponent("bench/code-short.jsonl").path

    @Test("bad arguments and an unreachable server are one-line errors", arguments: [
        (["--url", "http://127.0.0.1:1", "--prompts", "/nonexistent.jsonl"], "cannot read prompts file '/nonexistent.jsonl'"),
        (["--url", "http://127.0.0.1:1", "--prompts", prompts, "--rate", "2", "--concurrency", "2"], "give --concurrency or --rate, not both"),
        (["--url", "https://127.0.0.1:1", "--prompts", prompts], "https is not supported"),
        (["--url", "http://127.0.0.1:1", "--prompts", prompts, "--speculation", "maybe"], "not one of auto, off"),
        (["--url", "http://127.0.0.1:1", "--prompts", prompts, "--limit", "2"], "http://127.0.0.1:1/v1/models: cannot connect"),
    ])
    func refusals(arguments: [String], message: String) throws {
        let result = try SpeculaProcess.run(["bench", "serve"] + arguments)
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        let errorLines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errorLines.count == 1 && errorLines[0].contains(message), "\(result.stderr)")
    }
}
