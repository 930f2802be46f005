import Foundation
import Logging
import Router
import Wire
#if canImport(Glibc)
import Glibc
#endif

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
