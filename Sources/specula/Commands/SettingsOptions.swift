import ArgumentParser
import Foundation
import ServiceSettings

/// `--config FILE` and `--show-config`, the same for every service command.
struct SettingsOptions: ParsableArguments {
    @Option(help: "Settings file: 'key = value' lines, keys as the long flag names (env SPECULA_CONFIG); flags beat SPECULA_* variables, which beat the file.")
    var config: String?
    @Flag(help: "Print the resolved settings, each with where it came from, and exit.") var showConfig = false
}

/// A command whose settings come from flags, `SPECULA_*` variables and a config file, in that order
/// (`ServiceSettings`): `specula worker`, `specula router`, `specula serve`.
protocol ServiceCommand {
    static var settingsSchema: SettingsSchema { get }
    var settingsOptions: SettingsOptions { get }
    /// The flags given on this command line, by setting name, as text.
    var givenFlags: [String: String] { get }
}

extension ServiceCommand {
    /// Flags, then `SPECULA_*`, then `--config FILE` (or `SPECULA_CONFIG`), then defaults.
    func resolvedSettings(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ResolvedSettings {
        try ResolvedSettings.load(schema: Self.settingsSchema, flags: givenFlags, configFlag: settingsOptions.config, environment: environment)
    }

    /// The settings to run with; nil when `--show-config` printed them instead (the command then exits).
    func settingsToRun() throws -> ResolvedSettings? {
        let settings = try resolvedSettings()
        guard settingsOptions.showConfig else { return settings }
        FileHandleOutput.standardOutput.write(settings.rendered)
        return nil
    }
}

extension SettingsSchema {
    /// The key's `--help` line (summary, default, allowed values, variable).
    func help(_ name: String) -> ArgumentHelp {
        ArgumentHelp(self[name]!.help)
    }
}

/// Settings the worker and the router both have, defined once so their names, ranges and defaults
/// cannot drift apart (each side of a connection heartbeats and times out the other).
enum SharedSettings {
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    static let workerTokenFile = SettingKey("worker-token-file", .path,
                                            "File holding the shared worker token (first line; else SPECULA_WORKER_TOKEN holds the token)")
    static let heartbeatInterval = SettingKey("heartbeat-interval-ms", .integer(10...3_600_000), default: "5000",
                                              "Send a heartbeat after this many ms without sending")
    static let heartbeatTimeout = SettingKey("heartbeat-timeout-ms", .integer(20...3_600_000), default: "15000",
                                             "Drop a connection after this many ms without hearing from the other side")
    static let logLevel = SettingKey("log-level", .choice(logLevels), default: "info", "Log level")

    /// The heartbeat interval and timeout, checked together: the interval must be below the timeout.
    static func heartbeats(_ settings: ResolvedSettings) throws -> (interval: Int, timeout: Int) {
        let interval = settings.integer(heartbeatInterval.name)!
        let timeout = settings.integer(heartbeatTimeout.name)!
        guard timeout > interval else {
            throw CLIError("\(settings.origin(heartbeatInterval.name)) and \(settings.origin(heartbeatTimeout.name)): "
                + "expected the interval below the timeout")
        }
        return (interval, timeout)
    }
}
