public import Logging
public import NIOCore
import HTTPFrontend
import NIOPosix
import Synchronization
import Wire

/// The router: accepts worker connections, keeps the shared queue (``RouterState``), assigns work
/// against credits, streams each request's events to its API handler, fails requests over when a
/// worker dies, and expires deadlines.
///
/// Threading: all state lives on one event loop (``loop``), where every worker connection also runs,
/// so wire events need no hop. The API's methods may be called from any task; they hop onto the loop.
public final class RouterService: @unchecked Sendable {
    /// A request's API side: where its events go and the times its metrics need.
    struct Listener {
        let mailbox: RequestMailbox
        let arrival: NIODeadline
        var lastEvent: NIODeadline?
        var assigned = false
    }

    public let loop: any EventLoop
    let configuration: RouterConfiguration
    let metrics: RouterMetrics
    let logger: Logger
    var state: RouterState
    var connections: [WorkerID: WorkerConnection] = [:]
    var listeners: [UInt64: Listener] = [:]
    var utility: [UInt64: UtilityRequest] = [:]
    private var nextWorkerID = 1
    private var tick: RepeatedTask?
    private var listener: (any Channel)?
    private let requestIDs = Atomic<UInt64>(0)
    /// When the router started (the `created` time of `/v1/models`).
    public let started = UInt64(NIODeadline.now().uptimeNanoseconds)

    public init(configuration: RouterConfiguration, loop: any EventLoop, metrics: RouterMetrics, logger: Logger) {
        self.configuration = configuration
        self.loop = loop
        self.metrics = metrics
        self.logger = logger
        state = RouterState(maxQueue: configuration.maxQueue, maxAttempts: configuration.maxAttempts)
    }

    /// Listens for workers on `host:port` (0: any free port); returns the bound port.
    public func listen(host: String, port: Int) async throws -> Int {
        let proof = configuration.proof
        let logger = self.logger
        let channel = try await ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var handlers: [any ChannelHandler] = [ByteToMessageHandler(try FrameDecoder()), MessageToByteHandler(try FrameEncoder())]
                    let capture = self.configuration.capture?.makeHandler(sender: .router) { error in
                        logger.warning("wire capture stopped", metadata: ["reason": "\(error)"])
                    }
                    if let capture { handlers.append(capture) }
                    handlers += [WireSessionHandler(router: RouterHandshake(proof: proof)), WorkerChannelHandler(service: self)]
                    try channel.pipeline.syncOperations.addHandlers(handlers)
                }
            }
            .bind(to: SocketAddress.listening(host: host, port: port)).get()
        guard let bound = channel.localAddress?.port else { throw RouterError("the worker listener on \(host):\(port) has no port") }
        let period = TimeAmount.nanoseconds(max(10_000_000, min(100_000_000, configuration.heartbeatInterval.nanoseconds / 4)))
        try await loop.submit {
            self.listener = channel
            self.tick = self.loop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in self.onTick() }
        }.get()
        logger.info("listening for workers", metadata: ["address": "\(host):\(bound)"])
        return bound
    }

    // MARK: - The API side

    /// Admits a generation request; its events arrive in the returned mailbox until it finishes.
    /// - Throws: ``OpenAIError`` (404, 503, 429, 400) when it is not admitted.
    public func submit(_ job: GenerationJob) async throws -> (id: UInt64, events: RequestMailbox) {
        let id = requestIDs.add(1, ordering: .relaxed).newValue
        let events = RequestMailbox(timing: configuration.wireTiming)
        let admitted: Result<Void, OpenAIError> = try await loop.submit {
            let now = NIODeadline.now()
            switch self.state.submit(job, id: id, now: now) {
            case .failure(let error):
                self.metrics.failed(error)
                return .failure(error)
            case .success(let actions):
                self.listeners[id] = Listener(mailbox: events, arrival: now)
                self.perform(actions)
                return .success(())
            }
        }.get()
        try admitted.get()
        return (id, events)
    }

    /// The client of request `id` went away: take it out of the queue or cancel it on its worker.
    public func cancel(_ id: UInt64) {
        loop.execute {
            self.listeners.removeValue(forKey: id)?.mailbox.finish()
            self.perform(self.state.clientGone(id))
        }
    }

    /// The models workers serve now, with their limits.
    public func models() async throws -> [String: ModelLimits] {
        try await loop.submit { self.state.pool.models }.get()
    }

    /// Readiness: every model seen since start has a worker taking work, and there is at least one.
    public func readiness() async throws -> (ready: Bool, models: [String: Int]) {
        try await loop.submit {
            let served = self.state.pool.models.mapValues(\.workers)
            var models: [String: Int] = [:]
            for model in self.state.knownModels { models[model] = served[model] ?? 0 }
            let ready = !self.state.draining && !models.isEmpty && models.values.allSatisfy { $0 > 0 }
            return (ready, models)
        }.get()
    }

    /// Stops admitting requests (they get 503); queued and running ones carry on.
    public func beginDrain() async throws {
        try await loop.submit {
            self.logger.info("draining", metadata: ["in_flight": "\(self.state.inFlight)"])
            _ = self.state.beginDrain()
        }.get()
    }

    /// Requests queued or running.
    public func inFlight() async throws -> Int {
        try await loop.submit { self.state.inFlight }.get()
    }

    /// Workers registered and requests queued or running, read on the router's loop in one hop: the
    /// watchdog's evidence that the router's state answers, and the status line systemd shows.
    public func load() async throws -> RouterLoad {
        try await loop.submit {
            RouterLoad(workers: self.state.pool.models.values.reduce(0) { $0 + $1.workers }, inFlight: self.state.inFlight,
                       draining: self.state.draining)
        }.get()
    }

    /// Closes the worker listener and every worker connection (workers reconnect to a new router).
    public func shutdown() async throws {
        let closing: EventLoopFuture<Void> = try await loop.submit {
            self.tick?.cancel()
            self.tick = nil
            for connection in self.connections.values {
                connection.fail(WireError(.internalError, "the router is shutting down"))
            }
            return self.listener?.close() ?? self.loop.makeSucceededVoidFuture()
        }.get()
        try? await closing.get()
    }

    // MARK: - Performing decisions

    func perform(_ actions: [RouterAction]) {
        for action in actions {
            switch action {
            case .send(let worker, let message):
                if case .assign(let assignment) = message { assigned(assignment) }
                connections[worker]?.send(message)
            case .close(let worker, let error):
                connections[worker]?.fail(error)
            case .deliver(let id, let event):
                deliver(event, to: id)
            }
        }
        metrics.waiting.set(Double(state.queue.count))
        metrics.running.set(Double(state.running.count))
    }

    private func assigned(_ assignment: Assignment) {
        guard var listener = listeners[assignment.requestID] else { return }
        if listener.assigned {
            metrics.resumed.increment()
            logger.info("request resumed", metadata: ["request": "\(assignment.requestID)", "produced": "\(assignment.producedTokenIDs.count)"])
        } else {
            metrics.queueTime.record(Self.seconds(.now() - listener.arrival))
            listener.assigned = true
            listeners[assignment.requestID] = listener
        }
    }

    private func deliver(_ event: RequestEvent, to id: UInt64) {
        guard var listener = listeners[id] else { return }
        let now = NIODeadline.now()
        switch event {
        case .tokens(_, let count, _):
            metrics.generationTokens.increment(by: Int64(count))
            if let last = listener.lastEvent {
                metrics.interTokenLatency.record(Self.seconds(now - last))
            } else {
                metrics.timeToFirstToken.record(Self.seconds(now - listener.arrival))
            }
            listener.lastEvent = now
            listeners[id] = listener
            listener.mailbox.push(event)
            return
        case .finished(let summary):
            metrics.finished(summary)
        case .failed(let error):
            metrics.failed(error)
        }
        metrics.endToEndLatency.record(Self.seconds(now - listener.arrival))
        listeners[id] = nil
        listener.mailbox.push(event)
        listener.mailbox.finish()
    }

    /// Heartbeats, liveness and deadlines, every ~100 ms.
    private func onTick() {
        let now = NIODeadline.now()
        checkLiveness(now: now)
        perform(state.expire(now: now))
    }

    func nextRequestID() -> UInt64 { requestIDs.add(1, ordering: .relaxed).newValue }

    func makeWorkerID() -> WorkerID {
        defer { nextWorkerID += 1 }
        return WorkerID(nextWorkerID)
    }

    static func seconds(_ amount: TimeAmount) -> Double { Double(amount.nanoseconds) / 1e9 }
}

/// How busy the router is (``RouterService/load()``).
public struct RouterLoad: Sendable, Equatable, CustomStringConvertible {
    public let workers: Int
    public let inFlight: Int
    public let draining: Bool

    /// `serving: 2 workers, 3 requests in flight`, or `draining: 3 requests in flight`.
    public var description: String {
        draining ? "draining: \(inFlight) requests in flight" : "serving: \(workers) workers, \(inFlight) requests in flight"
    }
}

/// A router failure outside any request (a listener that cannot bind), one line.
public struct RouterError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
