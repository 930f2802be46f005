import Foundation
import ServingTestSupport
import SystemdNotify
#if canImport(Glibc)
import Glibc
#endif

/// A unit's exact `ExecStart=` line run as systemd would run it, without systemd: in an environment
/// holding only what the unit gives (`Environment=`, its `EnvironmentFile=`s as they are on disk) and
/// what systemd adds (`NOTIFY_SOCKET`, a socket the test binds; `WATCHDOG_USEC` from `WatchdogSec=`;
/// `PATH`, `CACHE_DIRECTORY`, ...). `%C` points into the installed tree. Output goes to a log file.
final class LaunchedUnit {
    let name: String
    let collector: NotifyCollector
    private let process = Process()
    private let logURL: URL

    /// `wrapper` runs before the command (`strace -f -o FILE`): the service is then its child.
    init(tree: InstalledTree, unit unitName: String, instance: String = "", wrapper: [String] = []) throws {
        let unit = try tree.unit(unitName)
        name = instance.isEmpty ? unitName : unitName.replacingOccurrences(of: "@.", with: "@\(instance).")
        let specifiers = UnitFile.Specifiers(instance: instance, cacheRoot: tree.cacheRoot)
        let command = try unit.execStart(specifiers)
        var environment = try unit.environment(specifiers)
        collector = try NotifyCollector(name: "specula-unit-test")
        let cacheDirectory = tree.cacheRoot + "/specula"
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        environment.merge([
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "NOTIFY_SOCKET": collector.environmentValue,
            "CACHE_DIRECTORY": cacheDirectory,
            "INVOCATION_ID": UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
        ]) { $1 }
        if let watchdog = unit.value("WatchdogSec") { environment["WATCHDOG_USEC"] = "\(try UnitFile.microseconds(watchdog))" }
        logURL = tree.root.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let arguments = wrapper + command
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: logURL)
        process.standardError = try FileHandle(forWritingTo: logURL)
        try process.run()
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// The service's own process: the one started, or the wrapper's child.
    var mainPID: pid_t {
        let pid = process.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { pid_t($0) } ?? pid
    }

    /// Every notification received so far, in order.
    var notifications: [NotifyMessage] { collector.messages }

    /// The next notification (after those `waitFor` returned or passed over) that sets `key`.
    func waitFor(_ key: String, within timeout: Duration = .seconds(60)) async throws -> NotifyMessage {
        let process = self.process
        guard let message = try await collector.next(key, within: timeout, alive: { process.isRunning }) else {
            collector.drain()
            throw ProcessError("\(name): no \(key)= (running: \(process.isRunning); seen: \(notifications))\nlog:\n\(log)")
        }
        return message
    }

    func count(_ key: String) -> Int { notifications.filter { $0[key] != nil }.count }

    /// Lets notifications arrive for `duration`.
    func collect(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
        collector.drain()
    }

    /// What `systemctl stop` sends first (KillSignal=SIGTERM, KillMode=mixed: the main process only).
    func terminate() { signal(SIGTERM) }

    func signal(_ number: Int32) { Glibc.kill(mainPID, number) }

    func waitForExit(within timeout: Duration) async throws -> Int32? {
        guard let status = try await process.exitStatus(within: timeout) else { return nil }
        collector.drain()
        return status
    }

    /// SIGKILL whatever is left (the test's `defer`).
    func kill() {
        if process.isRunning {
            Glibc.kill(mainPID, SIGKILL)
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        collector.close()
    }
}

extension InstalledTree {
    /// Appends assignments to an environment file (later lines win, as in systemd).
    func appendEnvironment(_ file: String, _ assignments: KeyValuePairs<String, String>) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: sysconfdir + "/" + file))
        defer { try? handle.close() }
        try handle.seekToEnd()
        let lines = assignments.map { "\($0.key)=\($0.value)\n" }.joined()
        try handle.write(contentsOf: Data(("\n# added by the test\n" + lines).utf8))
    }

    /// Changes an installed unit's directive, as a drop-in would.
    func setDirective(_ unit: String, _ key: String, from old: String, to new: String) throws {
        let path = unitdir + "/" + unit
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard text.contains("\n\(key)=\(old)\n") else { throw ProcessError("\(unit) has no \(key)=\(old)") }
        try text.replacingOccurrences(of: "\n\(key)=\(old)\n", with: "\n\(key)=\(new)\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The API key install.sh generated (`api-keys`, one key).
    var apiKey: String {
        get throws { try String(contentsOfFile: sysconfdir + "/api-keys", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    var workerToken: String {
        get throws { try String(contentsOfFile: sysconfdir + "/worker-token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}
