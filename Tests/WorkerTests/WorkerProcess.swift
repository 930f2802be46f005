import Foundation
import ServingTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A `specula worker` subprocess (the executable beside the test bundle), its stderr in a file, killed
/// for good by ``kill()`` (tests call it in `defer`).
final class WorkerProcess {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let token = Array("specula-test-token-0123456789abcdef".utf8)

    let process = Process()
    let directory: URL
    private let logURL: URL

    static var executable: URL { get throws { try BuiltSpecula.executable } }

    /// Settings that keep a test worker fast and deterministic: no drafter, one compute thread, a small
    /// cache, short heartbeat and reconnect timings.
    static let testArguments = [
        "--threads", "1", "--kv-cache-mb", "16", "--max-running", "4", "--name", "test-worker",
        "--reconnect-max-ms", "400", "--log-level", "debug",
    ]

    /// Starts `specula worker --router ROUTERS ...` with `token` in its token file; without a datastore
    /// speculation is off. `heartbeatMs` is the heartbeat interval and timeout.
    init(routers: [Int], token: [UInt8] = WorkerProcess.token, datastore: String? = nil,
         heartbeatMs: (interval: Int, timeout: Int) = (200, 2000), environment extra: [String: String] = [:]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("specula-worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tokenFile = directory.appendingPathComponent("token")
        try Data(token + [UInt8(ascii: "\n")]).write(to: tokenFile)
        logURL = directory.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = try Self.executable
        process.arguments = ["worker", "--router", routers.map { "127.0.0.1:\($0)" }.joined(separator: ","),
                             "--worker-token-file", tokenFile.path] + Self.testArguments
            + ["--heartbeat-interval-ms", "\(heartbeatMs.interval)", "--heartbeat-timeout-ms", "\(heartbeatMs.timeout)"]
            + (datastore.map { ["--speculate", "on", "--datastore", $0] } ?? ["--speculate", "off"])
        var environment = ProcessInfo.processInfo.environment
        environment["SPECULA_CACHE"] = directory.appendingPathComponent("cache").path
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: logURL)
        try process.run()
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { Glibc.kill(process.processIdentifier, number) }

    /// Waits for the exit; nil when it is still running after `timeout`.
    func waitForExit(within timeout: Duration) async throws -> Int32? {
        try await process.exitStatus(within: timeout)
    }

    /// SIGKILL (the worker drains on SIGTERM, so that would not end it) and clean up.
    func kill() {
        process.killAndReap()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// `specula generate` with the same settings, for the reference text.
enum ReferenceGeneration {
    static func text(prompt: String, maxTokens: Int) throws -> String {
        let output = try run(["generate", "--prompt", prompt, "--max-tokens", "\(maxTokens)", "--speculate", "off",
                              "--threads", "1", "--kv-cache-mb", "16", "--json"])
        guard let text = output["text"] as? String else { throw ProcessError("specula generate --json printed no text") }
        return text
    }

    /// `specula datastore build` over `corpus` (a small text file), into `out`.
    static func buildDatastore(corpus: String, out: String) throws {
        let process = Process()
        process.executableURL = try WorkerProcess.executable
        process.arguments = ["datastore", "build", "--corpus", corpus, "--out", out]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ProcessError("specula datastore build failed (status \(process.terminationStatus))") }
    }

    /// Runs `specula ARGUMENTS` and parses its JSON output.
    static func run(_ arguments: [String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = try WorkerProcess.executable
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ProcessError("specula \(arguments.first ?? "") failed (status \(process.terminationStatus)): \(String(decoding: data, as: UTF8.self))")
        }
        return object
    }
}
