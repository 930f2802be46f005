import ArgumentParser
import Foundation
import Logging
import Router
import Wire

/// `specula serve`: a router in this process and N `specula worker` children on this machine.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a router and N worker processes on this machine (the bundled model by default).",
        discussion: """
        The router listens on --host:--port (HTTP/1.1 and HTTP/2, the API of Protocols/http-api.md); \
        the workers are children of this process, connected over loopback with a token made at start. \
        It logs 'ready' once every worker has registered. A worker that dies is restarted (backoff \
        from 0.5 s to 30 s); its requests resume on the others meanwhile. SIGINT (Ctrl-C) or SIGTERM \
        drains: new requests get 503, running ones finish, the workers stop, and serve exits 0.
        """)

    @Option(help: "Model folder or .gguf file (default: the bundled pycode-6m).") var model: String?
    @Option(help: "Number of worker processes.") var workers: Int = 1
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on.") var port: Int = 8080
    @Option(help: "SSSD datastore file (default: the bundled corpus's).") var datastore: String?
    @Option(help: "Speculation in the workers: on or off.") var speculate: String = "on"
    @Option(help: "Compute threads per worker (default: the cores divided among the workers).") var threads: Int?
    @Option(help: "KV cache budget per worker, in MB.") var kvCacheMb: Int = 256
    @Option(help: "Most requests per worker at once (running + waiting).") var maxRunning: Int = 16
    @Option(help: "Loopback port for the workers (default: any free port).") var workerPort: Int = 0
    @OptionGroup var flags: RouterFlags

    func run() async throws {
        guard (1...64).contains(workers) else { throw CLIError("--workers \(workers) must be in 1-64") }
        guard (0...65535).contains(port) else { throw CLIError("--port \(port) must be in 0-65535") }
        guard ["on", "off"].contains(speculate) else { throw CLIError("--speculate '\(speculate)' is not one of on, off") }
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let proof = try HandshakeProof(token: Array(token.utf8))
        let options = try flags.options(httpHost: host, httpPort: port, workerHost: "127.0.0.1", workerPort: workerPort, proof: proof)
        try bootstrapLogging(level: flags.logLevel)
        let logger = Logger(label: "specula.serve")
        let signals = shutdownSignals()
        let server = try await RouterServer.start(options, logger: logger)
        server.metrics.bootstrapMetricsSystem()
        let (events, continuation) = AsyncStream.makeStream(of: ServeEvent.self)
        let supervisor = try makeSupervisor(workerPort: server.workerPort, token: token, logger: logger)
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
        loop: for await event in events {
            switch event {
            case .ready:
                ready = true
                let models = try await server.router.models().keys.sorted().joined(separator: ",")
                logger.info("ready", metadata: [
                    "url": "\(options.tls == nil ? "http" : "https")://\(host):\(server.http.port)", "workers": "\(workers)", "model": "\(models)",
                ])
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
        await server.drain(grace: flags.grace)
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

    private func makeSupervisor(workerPort: Int, token: String, logger: Logger) throws -> WorkerSupervisor {
        let executable = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        var environment = ProcessInfo.processInfo.environment
        environment["SPECULA_WORKER_TOKEN"] = token
        let perWorker = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / workers)
        var shared = ["--threads", "\(perWorker)", "--kv-cache-mb", "\(kvCacheMb)", "--max-running", "\(maxRunning)",
                      "--speculate", speculate, "--log-level", flags.logLevel, "--exit-with-parent"]
        if let model { shared += ["--model", model] }
        if let datastore { shared += ["--datastore", datastore] }
        let arguments = shared
        return WorkerSupervisor(count: workers, executable: executable, environment: environment, logger: logger) { index in
            ["worker", "--router", "127.0.0.1:\(workerPort)", "--name", "serve-\(index)"] + arguments
        }
    }
}
