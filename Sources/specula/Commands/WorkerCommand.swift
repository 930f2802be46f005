import ArgumentParser
import Dispatch
import Engine
import Foundation
import Kernels
import Logging
import ServiceSettings
import SystemdNotify
import Wire
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

        Settings come from flags, then SPECULA_<KEY> environment variables (SPECULA_KV_CACHE_MB for \
        --kv-cache-mb), then the --config file (or SPECULA_CONFIG): 'key = value' lines whose keys are the \
        long flag names. --show-config prints what results and where each value came from.

        Token: the first line of --worker-token-file (trimmed), else the SPECULA_WORKER_TOKEN environment \
        variable; at least 16 bytes. There is no unauthenticated mode: without a token the worker refuses \
        to start. A router holding a different token refuses the worker, which logs why and retries.

        SIGTERM or SIGINT drains: the worker tells every router (drain), takes nothing new, finishes the \
        requests it holds, closes, and exits 0. Logs are structured lines on stderr.

        Under systemd (Type=notify, NOTIFY_SOCKET set) the worker reports READY=1 once its model is loaded \
        and at least one router has accepted its registration, STOPPING=1 when the drain begins, a STATUS= \
        line as routers come and go, and, with WatchdogSec=, WATCHDOG=1 every half period for as long as \
        both its event loop and its engine thread answer.
        """)

    @Option(help: WorkerSettings.help("router")) var router: String?
    @Option(help: WorkerSettings.help("model")) var model: String?
    @Option(help: WorkerSettings.help("name")) var name: String?
    @Option(help: WorkerSettings.help("datastore")) var datastore: String?
    @Option(help: WorkerSettings.help("speculate")) var speculate: String?
    @Option(help: WorkerSettings.help("threads")) var threads: Int?
    @Option(help: WorkerSettings.help("kv-cache-mb")) var kvCacheMb: Int?
    @Option(help: WorkerSettings.help("max-running")) var maxRunning: Int?
    @Option(help: WorkerSettings.help("worker-token-file")) var workerTokenFile: String?
    @Option(help: WorkerSettings.help("heartbeat-interval-ms")) var heartbeatIntervalMs: Int?
    @Option(help: WorkerSettings.help("heartbeat-timeout-ms")) var heartbeatTimeoutMs: Int?
    @Option(help: WorkerSettings.help("reconnect-max-ms")) var reconnectMaxMs: Int?
    @Option(help: WorkerSettings.help("log-level")) var logLevel: String?
    @Option(help: WorkerSettings.help("activations")) var activations: ActivationPrecision?
    @OptionGroup var settingsOptions: SettingsOptions
    // A supervisor's switch, not a setting: neither a variable nor a config key sets it.
    @Flag(help: "Drain and exit when the parent process dies (set by 'specula serve' and tests, so no worker outlives them).")
    var exitWithParent = false

    func run() async throws {
        guard let settings = try settingsToRun() else { return }
        let configuration = try workerConfiguration(settings)
        try bootstrapLogging(level: settings.string("log-level")!)
        var logger = Logger(label: "specula.worker")
        logger[metadataKey: "worker"] = "\(configuration.name)"
        let systemd = try SystemdReporter(logger: logger)
        systemd.report(.starting, status: "loading the model")

        let service = try makeService(configuration: configuration, settings: settings, logger: logger, systemd: systemd)
        Self.reportToSystemd(service, systemd)
        let signals = Self.drainOnSignals(service)
        let watch = exitWithParent ? Self.drainWhenOrphaned(service) : nil
        service.start()
        try await service.finished.get()
        signals.forEach { $0.cancel() }
        watch?.cancel()
        try await service.shutdown()
    }

    /// Single values were checked against their ranges when the settings were resolved; what is left
    /// is how they combine.
    private func workerConfiguration(_ settings: ResolvedSettings) throws -> WorkerConfiguration {
        let (interval, timeout) = try SharedSettings.heartbeats(settings)
        do {
            return WorkerConfiguration(
                routers: try RouterAddress.parseList(try settings.required("router")),
                name: settings.string("name") ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())",
                proof: try WorkerToken.load(file: settings.string("worker-token-file")),
                capacity: settings.integer("max-running")!,
                heartbeatInterval: .milliseconds(Int64(interval)), heartbeatTimeout: .milliseconds(Int64(timeout)),
                backoff: Backoff(base: .milliseconds(100), max: .milliseconds(Int64(settings.integer("reconnect-max-ms")!))),
                capture: try wireCaptureFromEnvironment(),
                timesWire: WireTimingSwitch.isOn)
        } catch let error as WorkerError {
            throw CLIError(error.description)
        }
    }

    /// How long systemd waits for the next progress report of a first start (datastore build, step-cost
    /// measurement) before it fails the start. Reports come up to once a second, or every 30 s while
    /// another worker holds the lock; the longest gap is filling the step-cost contexts before the first
    /// timed step (about 1,150 tokens of prefill: 28.5 s on the 1B shape, about 3 minutes at 7B by
    /// estimate).
    static let startupProgressAllowance = Duration.seconds(300)

    private func makeService(configuration: WorkerConfiguration, settings: ResolvedSettings, logger: Logger,
                             systemd: SystemdReporter) throws -> WorkerService {
        let path = try settings.string("model") ?? BundledAssets.defaultModelPath
        let loaded = try LoadedModel(path: path, threads: settings.integer("threads"), kvCacheMB: settings.integer("kv-cache-mb")!,
                                     activations: ActivationPrecision(rawValue: settings.string("activations")!)!)
        let setup = settings.string("speculate") == "off" ? nil
            : try SpeculationAssets.setup(for: loaded, datastore: settings.string("datastore"), log: { logger.info("\($0)") },
                                          status: { systemd.startProgress($0, allowing: Self.startupProgressAllowance) })
        let served = WorkerModel(
            id: loaded.name, tokenizer: loaded.tokenizer, vocabularySize: loaded.model.vocabularySize,
            contextLength: loaded.model.maxContext, kvCapacityTokens: loaded.cache.freeTokenCapacity,
            supportsSpeculation: setup != nil)
        let engine = loaded.makeEngine(
            configuration: InferenceEngine.Configuration(maxTokensPerStep: loaded.model.maxTokensPerStep,
                                                         maxRunning: configuration.capacity),
            speculation: setup)
        logger.info("model loaded", metadata: ["model": "\(served.id)", "path": "\(path)",
                                              "context": "\(served.contextLength)", "kv_tokens": "\(served.kvCapacityTokens)"])
        return WorkerService(configuration: configuration, model: served, engine: engine, logger: logger)
    }

    /// Ready once a router accepted the worker; stopping once the drain begins; watchdog pings that
    /// need the event loop and the engine thread.
    private static func reportToSystemd(_ service: WorkerService, _ systemd: SystemdReporter) {
        service.onStatusChange { status in
            let phase: ServiceLifecycle.Phase = status.draining ? .stopping : status.registeredRouters > 0 ? .serving : .starting
            systemd.report(phase, status: status.description)
        }
        if let interval = systemd.watchdogInterval {
            service.startWatchdog(every: interval) { systemd.watchdogPing() }
        }
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
