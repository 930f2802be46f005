import ArgumentParser
import Logging
import Router
import Wire
import WorkerCore

/// `specula router`: the HTTP API and the shared queue; workers connect to it.
struct Router: AsyncParsableCommand {
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
        """)

    @Option(help: "HTTP listen address HOST:PORT.") var listen: String = "127.0.0.1:8080"
    @Option(help: "Worker listen address HOST:PORT.") var workerListen: String = "127.0.0.1:9090"
    @Option(help: "File holding the shared worker token (first line).") var workerTokenFile: String?
    @OptionGroup var flags: RouterFlags

    func run() async throws {
        let http = try parseListenAddress(listen, flag: "--listen")
        let workers = try parseListenAddress(workerListen, flag: "--worker-listen")
        let proof: HandshakeProof
        do {
            proof = try WorkerToken.load(file: workerTokenFile)
        } catch {
            throw CLIError("\(error)".replacingOccurrences(of: "no worker token:", with: "no worker token for the router:"))
        }
        let options = try flags.options(httpHost: http.host, httpPort: http.port, workerHost: workers.host, workerPort: workers.port, proof: proof)
        try bootstrapLogging(level: flags.logLevel)
        let logger = Logger(label: "specula.router")
        if options.apiKeys == nil && !["127.0.0.1", "localhost", "::1"].contains(http.host) {
            logger.warning("the API listens beyond loopback without API keys; give --api-key-file to require them")
        }
        let signals = shutdownSignals()
        let server = try await RouterServer.start(options, logger: logger)
        server.metrics.bootstrapMetricsSystem()
        for await number in signals {
            logger.info("shutting down", metadata: ["signal": "\(signalName(number))"])
            break
        }
        await server.stop(grace: flags.grace)
        logWireTiming(options, logger: logger)
        logger.info("stopped")
    }
}
