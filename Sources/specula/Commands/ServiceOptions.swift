import ArgumentParser
import Foundation
import HTTPFrontend
import Logging
import NIOCore
import Router
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// Flags `specula router` and `specula serve` share: the API's limits, keys and TLS, the router's
/// queue and timeouts, and logging.
struct RouterFlags: ParsableArguments {
    @Option(help: "File of API keys, one per line ('#' comments); without it the API is open.") var apiKeyFile: String?
    @Option(help: "TLS certificate chain (PEM); with --tls-key, serves HTTPS (ALPN h2, http/1.1).") var tlsCert: String?
    @Option(help: "TLS private key (PEM).") var tlsKey: String?
    @Option(help: "Most requests waiting per model; more get 429.") var maxQueue: Int = 1024
    @Option(help: "Seconds a request may take, queue time included, unless it asks for its own 'timeout'.") var requestTimeout: Double = 600
    @Option(help: "Longest 'timeout' a request may ask for, in seconds.") var maxRequestTimeout: Double = 3600
    @Option(help: "Send a heartbeat to a worker after this many ms without sending.") var heartbeatIntervalMs: Int = 5000
    @Option(help: "Drop a worker after this many ms without hearing from it (its requests resume elsewhere).") var heartbeatTimeoutMs: Int = 15000
    @Option(help: "Largest request body in bytes; larger gets 413.") var maxBodyBytes: Int = HTTPLimits.default.maxBodyBytes
    @Option(help: "Seconds to let running requests finish on SIGTERM/SIGINT.") var shutdownGrace: Double = 30
    @Option(help: "Event loop threads of the router (sockets, HTTP, JSON; default: one per core).") var eventLoopThreads: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"

    func options(httpHost: String, httpPort: Int, workerHost: String, workerPort: Int, proof: HandshakeProof) throws -> RouterServer.Options {
        guard maxQueue >= 0 else { throw CLIError("--max-queue \(maxQueue) must be >= 0") }
        guard requestTimeout > 0, maxRequestTimeout >= requestTimeout else {
            throw CLIError("--request-timeout \(requestTimeout) and --max-request-timeout \(maxRequestTimeout): expected 0 < timeout <= max")
        }
        guard heartbeatIntervalMs > 0, heartbeatTimeoutMs > heartbeatIntervalMs else {
            throw CLIError("--heartbeat-interval-ms \(heartbeatIntervalMs) and --heartbeat-timeout-ms \(heartbeatTimeoutMs): expected 0 < interval < timeout")
        }
        guard shutdownGrace >= 0 else { throw CLIError("--shutdown-grace \(shutdownGrace) must be >= 0") }
        if let eventLoopThreads, !(1...256).contains(eventLoopThreads) {
            throw CLIError("--event-loop-threads \(eventLoopThreads) must be in 1-256")
        }
        let tls: TLSFiles?
        switch (tlsCert, tlsKey) {
        case (let cert?, let key?): tls = TLSFiles(certificateChainPath: cert, privateKeyPath: key)
        case (nil, nil): tls = nil
        default: throw CLIError("--tls-cert and --tls-key go together")
        }
        var limits = HTTPLimits.default
        limits.maxBodyBytes = maxBodyBytes
        let keys: APIKeys?
        do {
            keys = try apiKeyFile.map { try APIKeys(file: $0) }
        } catch {
            throw CLIError("\(error)")
        }
        let configuration = RouterConfiguration(
            proof: proof, maxQueue: maxQueue, requestTimeout: Self.amount(requestTimeout), maxRequestTimeout: Self.amount(maxRequestTimeout),
            heartbeatInterval: .milliseconds(Int64(heartbeatIntervalMs)), heartbeatTimeout: .milliseconds(Int64(heartbeatTimeoutMs)),
            capture: try wireCaptureFromEnvironment(),
            wireTiming: WireTimingSwitch.isOn ? RouterWireTiming() : nil)
        let settings = APISettings(requestTimeout: configuration.requestTimeout, maxRequestTimeout: configuration.maxRequestTimeout)
        var options = RouterServer.Options(httpHost: httpHost, httpPort: httpPort, workerHost: workerHost, workerPort: workerPort, tls: tls,
                                           limits: limits, apiKeys: keys, configuration: configuration, settings: settings)
        if let eventLoopThreads { options.threads = eventLoopThreads }
        return options
    }

    var grace: Duration { .milliseconds(Int64(shutdownGrace * 1000)) }

    private static func amount(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(seconds * 1e9)) }
}

/// Structured log lines on stderr at the given level (`--log-level`).
func bootstrapLogging(level text: String) throws {
    guard let level = Logger.Level(rawValue: text) else {
        throw CLIError("--log-level '\(text)' is not one of trace, debug, info, notice, warning, error, critical")
    }
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}

/// SIGINT and SIGTERM as a stream (their default action, ending the process, is turned off).
func shutdownSignals() -> AsyncStream<Int32> {
    let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
    let sources = [SIGINT, SIGTERM].map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler { continuation.yield(number) }
        source.resume()
        return source
    }
    let installed = SignalSources(sources)
    continuation.onTermination = { _ in installed.cancel() }
    return stream
}

/// Keeps the dispatch sources alive while the stream is; cancelled once, when it ends.
private final class SignalSources: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { sources.forEach { $0.cancel() } }
}

func signalName(_ number: Int32) -> String { number == SIGTERM ? "SIGTERM" : number == SIGINT ? "SIGINT" : "signal \(number)" }

/// `HOST:PORT` for a listen flag.
func parseListenAddress(_ text: String, flag: String) throws -> (host: String, port: Int) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
        throw CLIError("\(flag) '\(text)': expected HOST:PORT with a port in 0-65535")
    }
    var host = String(text[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty else { throw CLIError("\(flag) '\(text)': the host is empty") }
    return (host, port)
}

/// `SPECULA_WIRE_CAPTURE` (`Protocols/wire.md`, "Diagnostics"): nil when unset; a prefix where no
/// file can be created stops the command at start-up.
func wireCaptureFromEnvironment() throws -> WireCaptureDestination? {
    do {
        return try WireCaptureDestination.fromEnvironment()
    } catch {
        throw CLIError("\(error)")
    }
}

/// With `SPECULA_WIRE_TIMING=1`, the router's half of the wire path timing, for the shutdown log.
func logWireTiming(_ options: RouterServer.Options, logger: Logger) {
    if let timing = options.configuration.wireTiming {
        logger.info("wire timing", metadata: ["frame_to_sse": "\(timing.summary)"])
    }
}
