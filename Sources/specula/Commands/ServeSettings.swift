import ArgumentParser
import ServiceSettings

/// `specula serve`'s settings: its own (the workers, the listen address) and the worker settings it
/// hands its workers, then everything the router has but its addresses and token (serve makes a
/// token and a loopback worker port itself).
enum ServeSettings {
    static let schema = SettingsSchema(command: "specula serve", keys: [
        WorkerSettings.schema["model"]!,
        SettingKey("workers", .integer(1...64), default: "1", "Number of worker processes"),
        SettingKey("host", .text, default: "127.0.0.1", "Address to listen on"),
        SettingKey("port", .integer(0...65_535), default: "8080", "Port to listen on"),
        WorkerSettings.schema["datastore"]!,
        WorkerSettings.schema["speculate"]!,
        perWorker("threads", "Compute threads per worker (default: the cores divided among the workers)"),
        perWorker("kv-cache-mb", "KV cache budget per worker, in MB"),
        perWorker("max-running", "Most requests per worker at once (running + waiting)"),
        SettingKey("worker-port", .integer(0...65_535), default: "0", "Loopback port for the workers (default: any free port)"),
    ] + RouterSettings.shared)

    static func help(_ name: String) -> ArgumentHelp { schema.help(name) }

    /// The worker's key under a summary that says it applies to each worker.
    private static func perWorker(_ name: String, _ summary: String) -> SettingKey {
        let key = WorkerSettings.schema[name]!
        return SettingKey(name, key.kind, default: key.defaultValue, summary)
    }

    /// The worker settings serve decides for its workers: from its own settings as flags, or itself
    /// (router, name, token). The variables and the config file behind them must not reach the
    /// workers, where a file of serve's keys would be refused and a token file would override the
    /// token serve made; nor may systemd's notify socket, which belongs to serve.
    static func workerEnvironment(_ environment: [String: String], token: String) -> [String: String] {
        var environment = environment
        let decided = schema.keys.map(\.name) + ["router", "name", "worker-token-file"]
        for name in decided {
            if let key = WorkerSettings.schema[name] { environment[key.environmentName] = nil }
        }
        for variable in [ResolvedSettings.configEnvironmentName, "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            environment[variable] = nil
        }
        environment["SPECULA_WORKER_TOKEN"] = token
        return environment
    }

    /// The flags each worker gets: serve's values for the worker settings it shares.
    static func workerArguments(_ settings: ResolvedSettings, threads: Int) -> [String] {
        var arguments = ["--threads", "\(threads)", "--exit-with-parent"]
        for name in ["kv-cache-mb", "max-running", "speculate", "log-level", "heartbeat-interval-ms", "heartbeat-timeout-ms", "model", "datastore"] {
            if let value = settings.string(name) { arguments += ["--" + name, value] }
        }
        return arguments
    }
}
