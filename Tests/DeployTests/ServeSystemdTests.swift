import Foundation
import ServingTestSupport
import SystemdNotify
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `specula serve` as a `Type=notify` service: it speaks for the whole machine, its workers stay
/// silent (it keeps `NOTIFY_SOCKET` from them).
@Suite("specula serve under systemd", .serialized, .timeLimit(.minutes(3)))
struct ServeSystemdTests {
    @Test("serve: READY=1 once its worker registered, watchdog pings, STOPPING=1 on SIGTERM, exit 0; the workers send nothing")
    func serveNotifies() async throws {
        let listener = try NotifyListener(address: NotifySocketAddress("@specula-serve-test-\(UUID().uuidString.prefix(8))"))
        defer { listener.close() }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("specula-serve-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = try BuiltSpecula.executable
        process.arguments = ["serve", "--port", "0", "--threads", "1", "--kv-cache-mb", "32", "--speculate", "off"]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "NOTIFY_SOCKET": listener.environmentValue, "WATCHDOG_USEC": "1000000",
        ]) { $1 }
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { process.killAndReap() }

        var seen: [NotifyMessage] = []
        func next(_ key: String) async throws -> NotifyMessage {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                guard let message = try await listener.next(within: .milliseconds(200)) else { continue }
                seen.append(message)
                if message[key] != nil { return message }
            }
            throw ProcessError("no \(key)= in \(seen); log:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        #expect(try await next("READY")["STATUS"] == "serving: 1 workers registered")
        for _ in 1...3 { _ = try await next("WATCHDOG") }
        Glibc.kill(process.processIdentifier, SIGTERM)
        #expect(try await next("STOPPING")["STOPPING"] == "1")
        #expect(try await process.exitStatus(within: .seconds(60)) == 0)
        while let message = try listener.poll() { seen.append(message) }
        #expect(seen.filter { $0["READY"] != nil }.count == 1, "the worker child did not notify: \(seen)")
        #expect(!seen.contains { $0["STATUS"]?.contains("registered with") == true }, "no worker status lines: \(seen)")
    }
}
