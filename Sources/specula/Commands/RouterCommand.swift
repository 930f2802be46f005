import ArgumentParser
import Logging
import Router
import ServiceSettings
import Wire
import WorkerCore

/// `specula router`: the HTTP API and the shared queue; workers connect to it.
struct Router: AsyncParsableCommand, ServiceCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP router: the OpenAI-compatible API and the shared request queue.",
        discussion: """
        Clients speak HTTP/2 (prior knowledge, or ALPN h2 with --tls-cert/--tls-key) or HTTP/1.1 on \
        --listen; workers ('specula worker --router HOST:PORT') connect to --worker-listen and prove the \
        shared token (first line of --worker-token-file, else SPECULA_WORKER_TOKEN; at least 16 bytes). \
        Requests wait in one FIFO per model and go to workers as they ask for work; a worker that dies \
        or falls silent is dropped and its requests resume on another. SIGTERM or SIGINT drains: new \
        requests get 503, running ones finish (up to --shutdown-grace), then the router exits 0. \
        The API is specified in Protocols/http-api.md.

        Settings come from flags, then SPECULA_<KEY> environment variables (SPECULA_MAX_QUEUE for \
        --max-queue), then the --config file (or SPECULA_CONFIG): 'key = value' lines whose keys are the \
        long flag names. --show-config prints what results and where each value came from.

        Under systemd (Type=notify, NOTIFY_SOCKET set) the router reports READY=1 once it listens for \
        clients and workers, STOPPING=1 when the drain begins, its load as the STATUS= line, and, with \
        WatchdogSec=, WATCHDOG=1 every half period for as long as its event loops and its state answer.
        """)

    static var settingsSchema: SettingsSchema { RouterSettings.schema }

    @Option(help: RouterSettings.help("listen")) var listen: String?
    @Option(help: RouterSettings.help("worker-listen")) var workerListen: String?
    @Option(help: RouterSettings.help("worker-token-file")) var workerTokenFile: String?
    @OptionGroup var flags: RouterFlags
    @OptionGroup var settingsOptions: SettingsOptions

    var givenFlags: [String: String] {
        let own: [String: String?] = ["listen": listen, "worker-listen": workerListen, "worker-token-file": workerTokenFile]
        return flags.given.merging(own.compactMapValues { $0 }) { $1 }
    }

    func run() async throws {
        guard let settings = try settingsToRun() else { return }
        let http = try parseListenAddress(settings.string("listen")!, flag: "--listen")
        let workers = try parseListenAddress(settings.string("worker-listen")!, flag: "--worker-listen")
        let proof: HandshakeProof
        do {
            proof = try WorkerToken.load(file: settings.string("worker-token-file"))
        } catch {
            throw CLIError("\(error)".replacingOccurrences(of: "no worker token:", with: "no worker token for the router:"))
        }
        let options = try RouterSettings.serverOptions(settings, http: http, workers: workers, proof: proof)
        try bootstrapLogging(level: settings.string("log-level")!)
        let logger = Logger(label: "specula.router")
        if options.apiKeys == nil && !["127.0.0.1", "localhost", "::1"].contains(http.host) {
            logger.warning("the API listens beyond loopback without API keys; give --api-key-file to require them")
        }
        let systemd = try SystemdReporter(logger: logger)
        systemd.report(.starting, status: "starting")
        let signals = shutdownSignals()
        let server = try await RouterServer.start(options, logger: logger)
        server.metrics.bootstrapMetricsSystem()
        systemd.report(.serving, status: "serving: listening on \(http.host):\(server.http.port), workers on \(workers.host):\(server.workerPort)")
        let watch = systemd.watch(server)
        for await number in signals {
            logger.info("shutting down", metadata: ["signal": "\(signalName(number))"])
            break
        }
        let inFlight = (try? await server.router.inFlight()).map(String.init) ?? "?"
        systemd.report(.stopping, status: "draining: \(inFlight) requests in flight")
        await server.drain(grace: RouterSettings.grace(settings))
        watch.cancel()
        await server.close()
        logWireTiming(options, logger: logger)
        logger.info("stopped")
    }
}
