import ArgumentParser
import Foundation
import Logging
import Router
import ServiceSettings
import Wire

/// `specula serve`: a router in this process and N `specula worker` children on this machine.
struct Serve: AsyncParsableCommand, ServiceCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a router and N worker processes on this machine (the bundled model by default).",
        discussion: """
        The router listens on --host:--port (HTTP/1.1 and HTTP/2, the API of Protocols/http-api.md); \
        the workers are children of this process, connected over loopback with a token made at start. \
        It logs 'ready' once every worker has registered. A worker that dies is restarted (backoff \
        from 0.5 s to 30 s); its requests resume on the others meanwhile. SIGINT (Ctrl-C) or SIGTERM \
        drains: new requests get 503, running ones finish, the workers stop, and serve exits 0.

        Settings come from flags, then SPECULA_<KEY> environment variables, then the --config file (or \
        SPECULA_CONFIG), as for 'specula router'; --show-config prints them. The workers get serve's \
        values as flags, and neither SPECULA_CONFIG nor the variables of settings serve decides for them.

        Under systemd (Type=notify) serve reports READY=1 once every worker has registered, STOPPING=1 \
        when the drain begins, and, with WatchdogSec=, watchdog pings as 'specula router' does. Its \
        workers notify serve, not systemd: while serve starts, their first-start progress (building \
        the datastore, measuring the step cost) becomes serve's status line, each report extending \
        the start timeout (EXTEND_TIMEOUT_USEC).
        """)

    static var settingsSchema: SettingsSchema { ServeSettings.schema }

    @Option(help: ServeSettings.help("model")) var model: String?
    @Option(help: ServeSettings.help("workers")) var workers: String?
    @Option(help: ServeSettings.help("host")) var host: String?
    @Option(help: ServeSettings.help("port")) var port: String?
    @Option(help: ServeSettings.help("datastore")) var datastore: String?
    @Option(help: ServeSettings.help("speculate")) var speculate: String?
    @Option(help: ServeSettings.help("threads")) var threads: String?
    @Option(help: ServeSettings.help("kv-cache-mb")) var kvCacheMb: String?
    @Option(help: ServeSettings.help("max-running")) var maxRunning: String?
    @Option(help: ServeSettings.help("worker-port")) var workerPort: String?
    @OptionGroup var flags: RouterFlags
    @OptionGroup var settingsOptions: SettingsOptions

    var givenFlags: [String: String] {
        let own: [String: String?] = [
            "model": model, "workers": workers, "host": host, "port": port, "datastore": datastore, "speculate": speculate,
            "threads": threads, "kv-cache-mb": kvCacheMb, "max-running": maxRunning, "worker-port": workerPort,
        ]
        return flags.given.merging(own.compactMapValues { $0 }) { $1 }
    }

    func run() async throws {
        guard let settings = try settingsToRun() else { return }
        let host = settings.string("host")!, workers = settings.integer("workers")!
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let proof = try HandshakeProof(token: Array(token.utf8))
        let options = try RouterSettings.serverOptions(settings, http: (host, settings.integer("port")!),
                                                       workers: ("127.0.0.1", settings.integer("worker-port")!), proof: proof)
        try bootstrapLogging(level: settings.string("log-level")!)
        let logger = Logger(label: "specula.serve")
        let systemd = try SystemdReporter(logger: logger)
        systemd.report(.starting, status: "starting \(workers) workers")
        let signals = shutdownSignals()
        let server = try await RouterServer.start(options, logger: logger)
        server.metrics.bootstrapMetricsSystem()
        let (events, continuation) = AsyncStream.makeStream(of: ServeEvent.self)
        let relay = try WorkerProgressRelay.start(for: systemd)
        let relaying = relay?.run(to: systemd)
        defer {
            relaying?.cancel()
            relay?.close()
        }
        let supervisor = try makeSupervisor(settings, workerPort: server.workerPort, token: token,
                                            notifySocket: relay?.environmentValue, logger: logger)
        supervisor.onExit = { index, status in continuation.yield(.workerExited(index, status)) }
        supervisor.start()
        let readiness = Task {
            try await server.waitForWorkers(workers)
            continuation.yield(.ready)
        }
        let forwarding = Task {
            for await number in signals { continuation.yield(.signal(number)) }
        }
        defer {
            readiness.cancel()
            forwarding.cancel()
        }
        var failure: CLIError?
        var ready = false
        var watch: Task<Void, Never>?
        loop: for await event in events {
            switch event {
            case .ready:
                ready = true
                let models = try await server.router.models().keys.sorted().joined(separator: ",")
                logger.info("ready", metadata: [
                    "url": "\(options.tls == nil ? "http" : "https")://\(host):\(server.http.port)", "workers": "\(workers)", "model": "\(models)",
                ])
                systemd.report(.serving, status: "serving: \(workers) workers registered")
                watch = systemd.watch(server)
            case .workerExited(let index, let status) where !ready:
                failure = CLIError("worker \(index) exited with status \(status) before registering; its error is logged above")
                break loop
            case .workerExited:
                continue
            case .signal(let number):
                logger.info("shutting down", metadata: ["signal": "\(signalName(number))"])
                break loop
            }
        }
        systemd.report(.stopping, status: "draining")
        await server.drain(grace: RouterSettings.grace(settings))
        watch?.cancel()
        await supervisor.stop(grace: .seconds(10))
        await server.close()
        logWireTiming(options, logger: logger)
        if let failure { throw failure }
        logger.info("stopped")
    }

    private enum ServeEvent: Sendable {
        case ready
        case workerExited(Int, Int32)
        case signal(Int32)
    }

    private func makeSupervisor(_ settings: ResolvedSettings, workerPort: Int, token: String, notifySocket: String?,
                                logger: Logger) throws -> WorkerSupervisor {
        let executable = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        let count = settings.integer("workers")!
        let threads = settings.integer("threads") ?? max(1, ProcessInfo.processInfo.activeProcessorCount / count)
        let arguments = ServeSettings.workerArguments(settings, threads: threads)
        var environment = ServeSettings.workerEnvironment(ProcessInfo.processInfo.environment, token: token)
        environment["NOTIFY_SOCKET"] = notifySocket
        return WorkerSupervisor(count: count, executable: executable, environment: environment, logger: logger) { index in
            ["worker", "--router", "127.0.0.1:\(workerPort)", "--name", "serve-\(index)"] + arguments
        }
    }
}
