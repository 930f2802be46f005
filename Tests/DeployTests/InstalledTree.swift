import Foundation
import ServingTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `Deploy/install.sh` run into a temporary folder with the `specula` built beside the tests (and its
/// resource bundle), as the current user (so no account is created) and without `daemon-reload`.
struct InstalledTree {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// A `SPECULA_ASSETS` folder whose corpus is 80 documents of the bundled one: a first start then
    /// indexes 1.4 MB of text rather than 28 MB (a minute of a debug build under a parallel test run).
    static var smallCorpusAssets: String { packageRoot.appendingPathComponent("Tests/Fixtures").path }
    static let script = packageRoot.appendingPathComponent("Deploy/install.sh").path

    let root: URL
    // Not under opt/specula or etc/specula, so a default path left in an installed file shows.
    var prefix: String { root.appendingPathComponent("prefix").path }
    var sysconfdir: String { root.appendingPathComponent("config").path }
    var unitdir: String { root.appendingPathComponent("systemd").path }
    var cacheRoot: String { root.appendingPathComponent("cache").path }

    static var builtExecutable: String {
        get throws { try BuiltSpecula.executable.path }
    }

    static var currentUser: String { String(cString: getpwuid(getuid())!.pointee.pw_name) }

    /// Installs into a fresh temporary folder.
    init(workers: Int = 1) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("specula-install-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let result = try install(["--workers", "\(workers)"])
        guard result.status == 0 else { throw ProcessError("install.sh failed (\(result.status)): \(result.output)") }
    }

    /// Runs install.sh with this tree's folders and `extra` arguments.
    func install(_ extra: [String]) throws -> (status: Int32, output: String) {
        try Self.run([Self.script, "--prefix", prefix, "--sysconfdir", sysconfdir, "--unitdir", unitdir,
                      "--user", Self.currentUser, "--binary", try Self.builtExecutable, "--no-reload"] + extra)
    }

    func unit(_ name: String) throws -> UnitFile { try UnitFile(path: unitdir + "/" + name) }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// Runs a program to its end; stdout and stderr together.
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
