import Foundation
import ServingTestSupport
import Testing

@Suite("Deploy/install.sh", .serialized)
struct InstallScriptTests {
    static func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("installs the binary, the bundled model and corpus where the binary finds them, config with tight modes")
    func installs() throws {
        let tree = try InstalledTree(workers: 2)
        defer { tree.remove() }
        let binary = tree.prefix + "/bin/specula"
        #expect(FileManager.default.isExecutableFile(atPath: binary))
        #expect(FileManager.default.fileExists(atPath: tree.prefix + "/share/specula/models/pycode-6m/model.safetensors"))
        #expect(FileManager.default.fileExists(atPath: tree.prefix + "/share/specula/corpus/pycode-train.txt.zst"))
        for file in ["worker-token", "api-keys", "router.env", "worker-1.env", "worker-2.env"] {
            #expect(try Self.mode(tree.sysconfdir + "/" + file) == 0o640, "\(file)")
        }
        #expect(try Self.mode(tree.sysconfdir) == 0o750)
        let token = try String(contentsOfFile: tree.sysconfdir + "/worker-token", encoding: .utf8)
        #expect(token.count >= 32 && !token.contains("\n"))
        #expect(try String(contentsOfFile: tree.sysconfdir + "/api-keys", encoding: .utf8).hasPrefix("sk-specula-"))
        // The installed binary finds its model through ../share/specula, with no SPECULA_ASSETS.
        let tokenized = try InstalledTree.run([binary, "tokenize", "--text", "def f():", "--json"],
                                              environment: ["PATH": "/usr/bin:/bin"])
        #expect(tokenized.status == 0 && tokenized.output.hasPrefix("{\"ids\":["), "\(tokenized.output)")
        // Units and environment files name the chosen folders, nothing of the defaults.
        for file in [tree.unitdir + "/specula-router.service", tree.unitdir + "/specula-worker@.service", tree.sysconfdir + "/worker-1.env"] {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(!text.contains("/opt/specula") && !text.contains("/etc/specula"), "\(file)")
        }
        #expect(try tree.unit("specula-worker@.service").value("User") == InstalledTree.currentUser)
        #expect(try UnitFile.environmentFile(tree.sysconfdir + "/worker-1.env")["SPECULA_WORKER_TOKEN_FILE"]
                == tree.sysconfdir + "/worker-token")
    }

    @Test("a second run keeps configuration, token and keys, restores their modes, and replaces what it owns")
    func idempotent() throws {
        let tree = try InstalledTree()
        defer { tree.remove() }
        let kept = ["worker-token", "api-keys", "router.env", "worker-1.env"].map { tree.sysconfdir + "/" + $0 }
        try "SPECULA_ROUTER=10.1.1.1:9090\n".write(toFile: kept[3], atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: kept[0])
        let before = try kept.map { try String(contentsOfFile: $0, encoding: .utf8) }
        try "stale".write(toFile: tree.prefix + "/share/specula/models/stale-file", atomically: true, encoding: .utf8)
        let second = try tree.install(["--workers", "1"])
        #expect(second.status == 0, "\(second.output)")
        #expect(try kept.map { try String(contentsOfFile: $0, encoding: .utf8) } == before)
        #expect(try Self.mode(kept[0]) == 0o640)
        #expect(!FileManager.default.fileExists(atPath: tree.prefix + "/share/specula/models/stale-file"))
        #expect(second.output.contains("keeping \(kept[0])"))
    }

    @Test("--dry-run prints the plan and changes nothing; bad options are refused")
    func dryRunAndRefusals() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("specula-dry-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: root) }
        let arguments = [InstalledTree.script, "--prefix", root.path + "/opt", "--sysconfdir", root.path + "/etc",
                         "--unitdir", root.path + "/units", "--user", InstalledTree.currentUser,
                         "--binary", try InstalledTree.builtExecutable, "--dry-run"]
        let dry = try InstalledTree.run(arguments)
        #expect(dry.status == 0, "\(dry.output)")
        #expect(!FileManager.default.fileExists(atPath: root.path))
        #expect(dry.output.contains("+ install -m 0755 "))
        #expect(dry.output.contains("+ write \(root.path)/etc/worker-token (mode 0640)"))
        #expect(dry.output.contains("+ write \(root.path)/units/specula-worker@.service (mode 0644)"))

        let unknown = try InstalledTree.run([InstalledTree.script, "--frobnicate"])
        #expect(unknown.status != 0 && unknown.output.contains("unknown option '--frobnicate'"))
        let relative = try InstalledTree.run([InstalledTree.script, "--prefix", "opt", "--binary", try InstalledTree.builtExecutable])
        #expect(relative.status != 0 && relative.output.contains("'opt' is not an absolute path"))
        let missing = try InstalledTree.run([InstalledTree.script, "--binary", "/nonexistent/specula", "--dry-run"])
        #expect(missing.status != 0 && missing.output.contains("no executable at /nonexistent/specula"))
    }
}
