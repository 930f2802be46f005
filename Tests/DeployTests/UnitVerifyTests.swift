import Foundation
import ServingTestSupport
import Testing

/// The unit files as systemd reads them: `systemd-analyze verify` (the systemd package, from
/// `.ci/deps`) must accept every installed unit without a word, and each unit must say what the
/// deployment promises (notify, watchdog, restart, drain, hardening).
@Suite("systemd units", .serialized)
struct UnitVerifyTests {
    static let units = ["specula-router.service", "specula-worker@.service"]

    static var systemdAnalyze: String? {
        ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test("systemd-analyze verify accepts the installed units, the worker template and an instance of it, silently",
          .enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed (Debian package systemd; .ci/deps installs it)"))
    func verify() throws {
        let tree = try InstalledTree()
        defer { tree.remove() }
        // An instance is verified under its own name, as `systemctl start specula-worker@1` would load it.
        let instance = tree.unitdir + "/specula-worker@1.service"
        try FileManager.default.createSymbolicLink(atPath: instance, withDestinationPath: tree.unitdir + "/specula-worker@.service")
        for unit in Self.units.map({ tree.unitdir + "/" + $0 }) + [instance] {
            let result = try InstalledTree.run([Self.systemdAnalyze!, "verify", unit])
            #expect(result.status == 0 && result.output.isEmpty, "\(unit):\n\(result.output)")
        }
    }

    @Test("systemd-analyze verify is not silent about a unit with a mistake (the check above can fail)",
          .enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed"))
    func verifyCatchesMistakes() throws {
        let tree = try InstalledTree()
        defer { tree.remove() }
        let path = tree.unitdir + "/specula-router.service"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "UMask=0077", with: "UMask=0077\nProtectSystm=strict")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try InstalledTree.run([Self.systemdAnalyze!, "verify", path])
        #expect(result.output.contains("Unknown key") && result.output.contains("ProtectSystm"))
    }

    @Test("each unit notifies, pings, restarts, drains within a bound and runs with minimal privileges",
          arguments: units)
    func directives(unit name: String) throws {
        let unit = try UnitFile(path: InstalledTree.packageRoot.appendingPathComponent("Deploy/\(name)").path)
        let expected: [String: String] = [
            "Type": "notify", "NotifyAccess": "main", "Restart": "on-failure", "KillSignal": "SIGTERM", "KillMode": "mixed",
            "User": "specula", "Group": "specula", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "AmbientCapabilities": "",
            "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
            "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "StateDirectory": "specula", "CacheDirectory": "specula",
            "ReadOnlyPaths": "/opt/specula /etc/specula", "StandardError": "journal", "MemoryDenyWriteExecute": "yes",
            "SystemCallArchitectures": "native",
        ]
        for (key, value) in expected {
            #expect(unit.value(key) == value, "\(name): \(key)")
        }
        #expect(unit.values("SystemCallFilter") == ["@system-service", "~@privileged"])
        #expect(unit.values("Environment").contains("SPECULA_CACHE=%C/specula"))
        #expect(try UnitFile.microseconds(unit.value("WatchdogSec") ?? "0") >= 10_000_000)
        #expect(try UnitFile.microseconds(unit.value("TimeoutStopSec") ?? "0") >= 60_000_000)
        #expect(unit.value("WantedBy", in: "Install") == "multi-user.target")
        let environmentFile = name == "specula-router.service" ? "/etc/specula/router.env" : "/etc/specula/worker-%i.env"
        #expect(unit.values("EnvironmentFile") == [environmentFile])
        #expect(try unit.execStart(.init(instance: "1")).first == "/opt/specula/bin/specula")
    }

    @Test("workers start after a local router and want it; the instance names the worker")
    func workerOrdering() throws {
        let unit = try UnitFile(path: InstalledTree.packageRoot.appendingPathComponent("Deploy/specula-worker@.service").path)
        #expect(unit.value("After", in: "Unit")?.contains("specula-router.service") == true)
        #expect(unit.value("Wants", in: "Unit")?.contains("specula-router.service") == true)
        let assignments = try unit.values("Environment").map { try UnitFile.Specifiers(instance: "7", host: "h").expand($0) }
        #expect(assignments.contains("SPECULA_NAME=h-7"), "before the instance's EnvironmentFile, which may override it")
    }
}
