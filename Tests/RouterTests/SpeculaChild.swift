import Foundation
import ServingTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A child process of the `specula` executable beside the test bundle, its stderr in a file; tests
/// call ``kill()`` in `defer`.
final class SpeculaChild: @unchecked Sendable {
    static let token = "router-test-token-0123456789abcdef"

    let process = Process()
    let logURL: URL

    static var executable: URL { get throws { try BuiltSpecula.executable } }

    init(_ arguments: [String], environment extra: [String: String] = [:]) throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("specula-child-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = try Self.executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment[SpeculaChild.tokenVariable] = Self.token
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: logURL)
        try process.run()
    }

    static let tokenVariable = "SPECULA_WORKER_TOKEN"

    /// `specula worker` for tests: one compute thread, a small cache, fast heartbeats, no drafter.
    static func worker(routerPort: Int, name: String, extra: [String] = []) throws -> SpeculaChild {
        try SpeculaChild(["worker", "--router", "127.0.0.1:\(routerPort)", "--name", name, "--threads", "1", "--kv-cache-mb", "16",
                          "--max-running", "4", "--speculate", "off", "--heartbeat-interval-ms", "200",
                          "--heartbeat-timeout-ms", "3000", "--reconnect-max-ms", "400", "--exit-with-parent"] + extra)
    }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { Glibc.kill(process.processIdentifier, number) }

    /// Waits for the exit; nil when still running after `timeout`.
    func waitForExit(within timeout: Duration) async throws -> Int32? {
        try await process.exitStatus(within: timeout)
    }

    func kill() {
        process.killAndReap()
        try? FileManager.default.removeItem(at: logURL)
    }

    /// `specula generate`'s greedy text for a prompt: the reference every served answer must equal.
    static func reference(prompt: String, maxTokens: Int) throws -> String {
        let (status, data, _) = try runToEnd(try executable, ["generate", "--prompt", prompt, "--max-tokens", "\(maxTokens)", "--speculate", "off",
                                                            "--threads", "1", "--kv-cache-mb", "16", "--json"])
        guard status == 0, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let text = object["text"] as? String else {
            throw TestFailure("specula generate failed (status \(status)): \(String(decoding: data, as: UTF8.self))")
        }
        return text
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
