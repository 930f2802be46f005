import ArgumentParser
import Dispatch
import Engine
import Foundation
import Logging
import WorkerCore
#if canImport(Glibc)
import Glibc
#endif

/// `specula worker`: loads the model and serves one or more routers over the wire protocol.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a worker: load a model and pull requests from one or more routers.",
        discussion: """
        The worker dials every router given, proves the shared token (HMAC challenge-response, the \
        token never crosses the wire), registers its model and limits, and takes requests only while its \
        engine has room (credits). If a router goes away, the requests it assigned are cancelled (the \
        router re-queues them) and the worker reconnects with exponential backoff.

        Token: the first line of --worker-token-file (trimmed), else the SPECULA_WORKER_TOKEN environment \
        variable; at least 16 bytes. There is no unauthenticated mode: without a token the worker refuses \
        to start. A router holding a different token refuses the worker, which logs why and retries.

        SIGTERM or SIGINT drains: the worker tells every router (drain), takes nothing new, finishes the \
        requests it holds, closes, and exits 0. Logs are structured lines on stderr.
        """)

    @OptionGroup var activationsOption: ActivationsOption
    @Option(help: "Routers to connect to, HOST:PORT[,HOST:PORT...].") var router: String
    @Option(help: "Model folder or .gguf file (default: the bundled pycode-6m).") var model: String?
    @Option(help: "Worker name (default: HOSTNAME-PID).") var name: String?
    @Option(help: "SSSD datastore file (default: the bundled corpus's, for models with the bundled tokenizer).")
    var datastore: String?
    @Option(help: "Speculation: on (SSSD drafts, as each request asks) or off (one token per step; no datastore is loaded).")
    var speculate: String = "on"
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Option(help: "KV cache budget in MB.") var kvCacheMb: Int = 256
    @Option(help: "Most requests held at once (running + waiting); the credits offered to all routers together.")
    var maxRunning: Int = 16
    @Option(help: "File holding the shared worker token (first line).") var workerTokenFile: String?
    @Option(help: "Send a heartbeat after this many ms without sending.") var heartbeatIntervalMs: Int = 5000
    @Option(help: "Drop a router connection after this many ms without receiving.") var heartbeatTimeoutMs: Int = 15000
    @Option(help: "Longest reconnect delay in ms (delays double from 100 ms).") var reconnectMaxMs: Int = 5000
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"
    @Flag(help: "Drain and exit when the parent process dies (set by 'specula serve' and tests, so no worker outlives them).")
    var exitWithParent = false

    func run() async throws {
        let configuration = try workerConfiguration()
        try bootstrapLogging(level: logLevel)
        var logger = Logger(label: "specula.worker")
        logger[metadataKey: "worker"] = "\(configuration.name)"

        let service = try makeService(configuration: configuration, logger: logger)
        let signals = Self.drainOnSignals(service)
        let watch = exitWithParent ? Self.drainWhenOrphaned(service) : nil
        service.start()
        try await service.finished.get()
        signals.forEach { $0.cancel() }
        watch?.cancel()
        try await service.shutdown()
    }

    private func workerConfiguration() throws -> WorkerConfiguration {
        guard maxRunning > 0 else { throw CLIError("--max-running \(maxRunning) must be > 0") }
        guard heartbeatIntervalMs > 0, heartbeatTimeoutMs > heartbeatIntervalMs else {
            throw CLIError("--heartbeat-interval-ms \(heartbeatIntervalMs) and --heartbeat-timeout-ms \(heartbeatTimeoutMs): expected 0 < interval < timeout")
        }
        guard reconnectMaxMs >= 100 else { throw CLIError("--reconnect-max-ms \(reconnectMaxMs) must be >= 100") }
        guard ["on", "off"].contains(speculate) else { throw CLIError("--speculate '\(speculate)' is not one of on, off") }
        let name = self.name ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        guard (1...128).contains(name.utf8.count) else { throw CLIError("--name is \(name.utf8.count) bytes; expected 1-128") }
        do {
            return WorkerConfiguration(
                routers: try RouterAddress.parseList(router), name: name,
                proof: try WorkerToken.load(file: workerTokenFile), capacity: maxRunning,
                heartbeatInterval: .milliseconds(Int64(heartbeatIntervalMs)),
                heartbeatTimeout: .milliseconds(Int64(heartbeatTimeoutMs)),
                backoff: Backoff(base: .milliseconds(100), max: .milliseconds(Int64(reconnectMaxMs))))
        } catch let error as WorkerError {
            throw CLIError(error.description)
        }
    }

    private func makeService(configuration: WorkerConfiguration, logger: Logger) throws -> WorkerService {
        let path = try model ?? BundledAssets.defaultModelPath
        let loaded = try LoadedModel(path: path, threads: threads, kvCacheMB: kvCacheMb,
                                     activations: activationsOption.activations)
        let setup = speculate == "off" ? nil : try SpeculationAssets.setup(for: loaded, datastore: datastore) {
            logger.info("\($0)")
        }
        let served = WorkerModel(
            id: loaded.name, tokenizer: loaded.tokenizer, vocabularySize: loaded.model.vocabularySize,
            contextLength: loaded.model.maxContext, kvCapacityTokens: loaded.cache.freeTokenCapacity,
            supportsSpeculation: setup != nil)
        let engine = loaded.makeEngine(
            configuration: InferenceEngine.Configuration(maxTokensPerStep: loaded.model.maxTokensPerStep, maxRunning: maxRunning),
            speculation: setup)
        logger.info("model loaded", metadata: ["model": "\(served.id)", "path": "\(path)",
                                              "context": "\(served.contextLength)", "kv_tokens": "\(served.kvCapacityTokens)"])
        return WorkerService(configuration: configuration, model: served, engine: engine, logger: logger)
    }

    /// Polls the parent pid: once the parent is gone (the worker was re-parented), drain.
    private static func drainWhenOrphaned(_ service: WorkerService) -> any DispatchSourceTimer {
        let parent = getppid()
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + .milliseconds(250), repeating: .milliseconds(250))
        timer.setEventHandler {
            if getppid() != parent {
                timer.cancel()
                service.drain(reason: "parent process \(parent) exited")
            }
        }
        timer.resume()
        return timer
    }

    /// SIGTERM and SIGINT start a drain instead of killing the process.
    private static func drainOnSignals(_ service: WorkerService) -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { service.drain(reason: number == SIGTERM ? "SIGTERM" : "SIGINT") }
            source.resume()
            return source
        }
    }
}
