import ArgumentParser
import Foundation
import HTTPFrontend
import NIOCore
import Router
import ServiceSettings
import Wire

/// `specula router`'s and `specula serve`'s settings: one list for flags, `SPECULA_*` variables and
/// config-file keys (Deploy/configuration.md documents them), and how they become the server's options.
enum RouterSettings {
    static let address = SettingKind.custom("HOST:PORT with a port in 0-65535", { (try? parseListenAddress($0, flag: "")) != nil })

    /// What the router and `serve` share: the API's limits, keys and TLS, the queue, timeouts,
    /// heartbeats, the drain and logging.
    static let shared: [SettingKey] = [
        SettingKey("api-key-file", .path, "File of API keys, one per line ('#' comments); without it the API is open"),
        SettingKey("tls-cert", .path, "TLS certificate chain (PEM); with tls-key, serves HTTPS (ALPN h2, http/1.1)"),
        SettingKey("tls-key", .path, "TLS private key (PEM)"),
        SettingKey("max-queue", .integer(0...Int.max), default: "1024", "Most requests waiting per model; more get 429"),
        SettingKey("request-timeout", .number(0.001...86_400), default: "600",
                   "Seconds a request may take, queue time included, unless it asks for its own 'timeout'"),
        SettingKey("max-request-timeout", .number(0.001...86_400), default: "3600", "Longest 'timeout' a request may ask for, in seconds"),
        SharedSettings.heartbeatInterval, SharedSettings.heartbeatTimeout,
        SettingKey("max-body-bytes", .integer(1...Int.max), default: "\(HTTPLimits.default.maxBodyBytes)",
                   "Largest request body in bytes; larger gets 413"),
        SettingKey("shutdown-grace", .number(0...86_400), default: "30", "Seconds to let running requests finish on SIGTERM/SIGINT"),
        SettingKey("event-loop-threads", .integer(1...256), "Event loop threads of the router (sockets, HTTP, JSON; default: one per core)"),
        SharedSettings.logLevel,
    ]

    static let schema = SettingsSchema(command: "specula router", keys: [
        SettingKey("listen", address, default: "127.0.0.1:8080", "HTTP listen address"),
        SettingKey("worker-listen", address, default: "127.0.0.1:9090", "Worker listen address"),
        SharedSettings.workerTokenFile,
    ] + shared)

    static func help(_ name: String) -> ArgumentHelp { schema.help(name) }

    /// The server's options from the shared keys. Single values were checked when the settings were
    /// resolved; what is left is how they combine, and the files they name.
    static func serverOptions(_ settings: ResolvedSettings, http: (host: String, port: Int), workers: (host: String, port: Int),
                              proof: HandshakeProof) throws -> RouterServer.Options {
        let requestTimeout = settings.number("request-timeout")!, maxRequestTimeout = settings.number("max-request-timeout")!
        guard maxRequestTimeout >= requestTimeout else {
            throw CLIError("\(settings.origin("request-timeout")) and \(settings.origin("max-request-timeout")): "
                + "expected the timeout at most the maximum")
        }
        let (interval, timeout) = try SharedSettings.heartbeats(settings)
        var limits = HTTPLimits.default
        limits.maxBodyBytes = settings.integer("max-body-bytes")!
        let configuration = RouterConfiguration(
            proof: proof, maxQueue: settings.integer("max-queue")!,
            requestTimeout: amount(requestTimeout), maxRequestTimeout: amount(maxRequestTimeout),
            heartbeatInterval: .milliseconds(Int64(interval)), heartbeatTimeout: .milliseconds(Int64(timeout)),
            capture: try wireCaptureFromEnvironment(), wireTiming: WireTimingSwitch.isOn ? RouterWireTiming() : nil)
        var options = RouterServer.Options(
            httpHost: http.host, httpPort: http.port, workerHost: workers.host, workerPort: workers.port,
            tls: try tls(settings), limits: limits, apiKeys: try apiKeys(settings), configuration: configuration,
            settings: APISettings(requestTimeout: configuration.requestTimeout, maxRequestTimeout: configuration.maxRequestTimeout))
        if let threads = settings.integer("event-loop-threads") { options.threads = threads }
        return options
    }

    /// How long SIGTERM lets running requests finish.
    static func grace(_ settings: ResolvedSettings) -> Duration {
        .milliseconds(Int64(settings.number("shutdown-grace")! * 1000))
    }

    private static func tls(_ settings: ResolvedSettings) throws -> TLSFiles? {
        switch (settings.string("tls-cert"), settings.string("tls-key")) {
        case (let cert?, let key?): return TLSFiles(certificateChainPath: cert, privateKeyPath: key)
        case (nil, nil): return nil
        case (.some, nil): throw CLIError("\(settings.origin("tls-cert")) without tls-key: --tls-cert and --tls-key go together")
        case (nil, .some): throw CLIError("\(settings.origin("tls-key")) without tls-cert: --tls-cert and --tls-key go together")
        }
    }

    private static func apiKeys(_ settings: ResolvedSettings) throws -> APIKeys? {
        do {
            return try settings.string("api-key-file").map { try APIKeys(file: $0) }
        } catch {
            throw CLIError("\(error)")
        }
    }

    private static func amount(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(seconds * 1e9)) }
}

/// The flags behind ``RouterSettings/shared``, for `specula router` and `specula serve`. All optional:
/// a flag given beats the variable and the file; one not given leaves them their say.
struct RouterFlags: ParsableArguments {
    @Option(help: RouterSettings.help("api-key-file")) var apiKeyFile: String?
    @Option(help: RouterSettings.help("tls-cert")) var tlsCert: String?
    @Option(help: RouterSettings.help("tls-key")) var tlsKey: String?
    @Option(help: RouterSettings.help("max-queue")) var maxQueue: String?
    @Option(help: RouterSettings.help("request-timeout")) var requestTimeout: String?
    @Option(help: RouterSettings.help("max-request-timeout")) var maxRequestTimeout: String?
    @Option(help: RouterSettings.help("heartbeat-interval-ms")) var heartbeatIntervalMs: String?
    @Option(help: RouterSettings.help("heartbeat-timeout-ms")) var heartbeatTimeoutMs: String?
    @Option(help: RouterSettings.help("max-body-bytes")) var maxBodyBytes: String?
    @Option(help: RouterSettings.help("shutdown-grace")) var shutdownGrace: String?
    @Option(help: RouterSettings.help("event-loop-threads")) var eventLoopThreads: String?
    @Option(help: RouterSettings.help("log-level")) var logLevel: String?

    var given: [String: String] {
        let given: [String: String?] = [
            "api-key-file": apiKeyFile, "tls-cert": tlsCert, "tls-key": tlsKey, "max-queue": maxQueue,
            "request-timeout": requestTimeout, "max-request-timeout": maxRequestTimeout,
            "heartbeat-interval-ms": heartbeatIntervalMs, "heartbeat-timeout-ms": heartbeatTimeoutMs,
            "max-body-bytes": maxBodyBytes, "shutdown-grace": shutdownGrace, "event-loop-threads": eventLoopThreads,
            "log-level": logLevel,
        ]
        return given.compactMapValues { $0 }
    }
}
