import Foundation
import ServingTestSupport
import SystemdNotify
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `specula serve` as a `Type=notify` service: it speaks for the whole machine. Its workers notify
/// serve, never systemd; serve passes on only their first-start progress, while it starts.
@Suite("specula serve under systemd", .serialized, .timeLimit(.minutes(3)))
struct ServeSystemdTests {
    @Test("serve: its worker's first-start progress extends the start, READY=1 once the worker registered, watchdog pings, STOPPING=1 on SIGTERM, exit 0")
    func serveNotifies() async throws {
        let collector = try NotifyCollector(name: "specula-serve-test")
        defer { collector.close() }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("specula-serve-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = try BuiltSpecula.executable
        // Speculating on an empty cache: the worker builds the datastore and measures its curve first.
        let cache = log.deletingPathExtension().path + "-cache"
        defer { try? FileManager.default.removeItem(atPath: cache) }
        process.arguments = ["serve", "--port", "0", "--threads", "1", "--kv-cache-mb", "32"]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "NOTIFY_SOCKET": collector.environmentValue, "WATCHDOG_USEC": "1000000", "SPECULA_CACHE": cache,
            "SPECULA_ASSETS": InstalledTree.smallCorpusAssets,
        ]) { $1 }
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { process.killAndReap() }

        func next(_ key: String, within timeout: Duration = .seconds(60)) async throws -> NotifyMessage {
            guard let message = try await collector.next(key, within: timeout) else {
                throw ProcessError("no \(key)= in \(collector.messages); log:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            }
            return message
        }
        #expect(try await next("READY", within: .seconds(120))["STATUS"] == "serving: 1 workers registered")
        let readyAt = collector.consumed
        let starting = Array(collector.messages[..<readyAt])
        let progress = starting.filter { $0["EXTEND_TIMEOUT_USEC"] != nil }
        #expect(progress.allSatisfy { $0["EXTEND_TIMEOUT_USEC"] == "300000000" }, "\(progress)")
        #expect(progress.contains { $0["STATUS"] == "worker: building the datastore: 100%" }, "\(starting)")
        #expect(progress.contains { $0["STATUS"] == "worker: measuring the step cost: 100%" }, "\(starting)")
        for _ in 1...3 { _ = try await next("WATCHDOG") }
        Glibc.kill(process.processIdentifier, SIGTERM)
        #expect(try await next("STOPPING")["STOPPING"] == "1")
        #expect(try await process.exitStatus(within: .seconds(60)) == 0)
        collector.drain()
        let seen = collector.messages
        #expect(seen.filter { $0["READY"] != nil }.count == 1, "the worker child did not notify systemd: \(seen)")
        #expect(!seen.contains { $0["STATUS"]?.contains("registered with") == true }, "no worker status lines: \(seen)")
        #expect(!seen[readyAt...].contains { $0["EXTEND_TIMEOUT_USEC"] != nil || $0["STATUS"]?.hasPrefix("worker:") == true },
                "nothing of the workers' once serve serves: \(seen[readyAt...])")
    }
}
