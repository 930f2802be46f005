import ModelFormat
public import HTTPFrontend
public import Logging
public import NIOCore
public import NIOPosix

/// A whole router process: the worker listener, the router service, the API and its HTTP front end
/// on one event loop group. `specula router` runs one; `specula serve` runs one beside its workers.
public final class RouterServer: Sendable {
    public struct Options: Sendable {
        public var httpHost: String
        public var httpPort: Int
        public var workerHost: String
        public var workerPort: Int
        public var tls: TLSFiles?
        public var limits: HTTPLimits
        public var apiKeys: APIKeys?
        public var configuration: RouterConfiguration
        public var settings: APISettings
        /// Event loop threads (sockets, TLS, JSONValue); the router's state lives on one of them.
        public var threads: Int

        public init(httpHost: String, httpPort: Int, workerHost: String, workerPort: Int, tls: TLSFiles? = nil,
                    limits: HTTPLimits = .default, apiKeys: APIKeys? = nil, configuration: RouterConfiguration,
                    settings: APISettings = APISettings(), threads: Int = System.coreCount) {
            self.httpHost = httpHost
            self.httpPort = httpPort
            self.workerHost = workerHost
            self.workerPort = workerPort
            self.tls = tls
            self.limits = limits
            self.apiKeys = apiKeys
            self.configuration = configuration
            self.settings = settings
            self.threads = threads
        }
    }

    public let router: RouterService
    public let metrics: RouterMetrics
    public let http: HTTPServer
    /// The bound worker port (the system's pick when started with port 0).
    public let workerPort: Int
    private let group: MultiThreadedEventLoopGroup
    private let logger: Logger

    private init(router: RouterService, metrics: RouterMetrics, http: HTTPServer, workerPort: Int,
                 group: MultiThreadedEventLoopGroup, logger: Logger) {
        self.router = router
        self.metrics = metrics
        self.http = http
        self.workerPort = workerPort
        self.group = group
        self.logger = logger
    }

    /// Listens for workers, then for clients.
    public static func start(_ options: Options, logger: Logger) async throws -> RouterServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.threads))
        do {
            let metrics = RouterMetrics()
            let router = RouterService(configuration: options.configuration, loop: group.next(), metrics: metrics, logger: logger)
            let workerPort = try await router.listen(host: options.workerHost, port: options.workerPort)
            let api = APIService(router: router, apiKeys: options.apiKeys, settings: options.settings, metrics: metrics, logger: logger)
            let http = try await HTTPServer.start(host: options.httpHost, port: options.httpPort, tls: options.tls, limits: options.limits,
                                                  service: api, group: group, logger: logger)
            logger.info("listening for clients", metadata: [
                "address": "\(options.httpHost):\(http.port)", "tls": "\(options.tls != nil)",
                "api_keys": "\(options.apiKeys?.count ?? 0)",
            ])
            return RouterServer(router: router, metrics: metrics, http: http, workerPort: workerPort, group: group, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Waits until `count` workers are registered (over all models).
    public func waitForWorkers(_ count: Int) async throws {
        while try await router.models().values.reduce(0, { $0 + $1.workers }) < count {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Returns once every event loop of the server has run a task and the router's state has
    /// answered; a wedged loop makes it wait forever, so a watchdog that pings after it stops pinging.
    public func probe() async throws -> RouterLoad {
        for loop in group.makeIterator() {
            try await loop.submit {}.get()
        }
        return try await router.load()
    }

    /// Drains then closes: ``drain(grace:)``, then ``close()``.
    public func stop(grace: Duration) async {
        await drain(grace: grace)
        await close()
    }

    /// New requests get 503; returns once queued and running ones have finished, or after `grace`.
    public func drain(grace: Duration) async {
        let deadline = ContinuousClock.now + grace
        var drained = false
        if (try? await router.beginDrain()) != nil {
            while ContinuousClock.now < deadline, let inFlight = try? await router.inFlight() {
                if inFlight == 0 {
                    drained = true
                    break
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        if !drained { logger.warning("requests still running after the grace period; closing anyway", metadata: ["grace_s": "\(grace.components.seconds)"]) }
    }

    /// Closes the HTTP front end (connections get a moment to finish), the worker connections and
    /// the event loops.
    public func close() async {
        await http.shutdown(grace: .seconds(2))
        try? await router.shutdown()
        try? await group.shutdownGracefully()
    }
}
