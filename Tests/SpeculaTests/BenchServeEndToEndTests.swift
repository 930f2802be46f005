import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `specula bench serve` against a real `specula serve` (router and worker processes): the client,
/// the API's stream and the metrics agree with what was asked.
@Suite("bench serve against specula serve", .serialized, .timeLimit(.minutes(3)))
struct BenchServeEndToEndTests {
    @Test("every request completes with the tokens asked for; JSON and SVG are written; serve drains and exits 0")
    func againstServe() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("specula-bench-e2e-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let serve = Process()
        serve.executableURL = try SpeculaProcess.executable
        serve.arguments = ["serve", "--port", "0", "--workers", "1", "--threads", "1", "--kv-cache-mb", "32", "--speculate", "off"]
        var environment = ProcessInfo.processInfo.environment
        environment["SPECULA_CACHE"] = directory.appendingPathComponent("cache").path
        serve.environment = environment
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = try FileHandle(forWritingTo: log)
        try serve.run()
        defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }

        let url = try await Self.readyURL(log: log, process: serve)
        let json = directory.appendingPathComponent("result.json").path
        let plot = directory.appendingPathComponent("result.svg").path
        let prompts = SpeculaProcess.fixtures.appendingPathComponent("bench/code-short.jsonl").path
        let bench = try SpeculaProcess.run(["bench", "serve", "--url", url, "--prompts", prompts, "--limit", "6", "--concurrency", "3",
                                            "--max-tokens", "16", "--ignore-eos", "--speculation", "off", "--json", json, "--plot", plot])
        #expect(bench.status == 0, "\(bench.stderr)")
        #expect(bench.stdout.contains("Successful requests:                     6"))
        let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(result["completed"] as? Int == 6 && result["failed"] as? Int == 0)
        #expect(result["output_lens"] as? [Int] == Array(repeating: 16, count: 6), "ignore_eos: exactly max_tokens each")
        #expect(result["max_concurrency"] as? Int == 3 && result["model"] as? String == "pycode-6m")
        let counts = result["speculation_counts"] as? [String: Int]
        #expect(counts?["draft_tokens"] == 0 && counts?["steps"] == 96, "speculation off: one token per step")
        let ttft = try #require(result["median_ttft_ms"] as? Double)
        let p99 = try #require(result["p99_ttft_ms"] as? Double)
        #expect(ttft > 0 && p99 >= ttft)
        #expect((result["errors"] as? [String])?.allSatisfy(\.isEmpty) == true)
        #expect(try String(contentsOfFile: plot, encoding: .utf8).contains("</svg>"))

        kill(serve.processIdentifier, SIGTERM)
        serve.waitUntilExit()
        #expect(serve.terminationStatus == 0)
    }

    /// The `url=` of serve's "ready" log line.
    static func readyURL(log: URL, process: Process) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains(" ready") && $0.contains("url=") }),
               let field = line.split(separator: " ").first(where: { $0.hasPrefix("url=") }) {
                return String(field.dropFirst(4))
            }
            guard process.isRunning else { throw ProcessError("specula serve exited: \(text)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ProcessError("specula serve did not log ready")
    }
}
