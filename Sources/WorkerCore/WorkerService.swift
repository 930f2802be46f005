public import Engine
import Foundation
public import Logging
public import NIOCore
import NIOPosix
import Wire

/// The worker: connects to every router, authenticates, registers, takes assignments while the engine
/// has room, streams the engine's events back on the connection that assigned each request, honours
/// cancels and deadlines, heartbeats, reconnects with backoff, and drains on request.
///
/// Threading: all state lives on one event loop (`loop`); the engine runs on its own thread and its
/// events hop onto the loop. Public methods may be called from any thread.
public final class WorkerService: @unchecked Sendable {
    /// A request the engine runs for a connection.
    struct Route {
        let link: Int
        let generation: Int
        let requestID: UInt64
        /// Its connection died: the router re-queues it, the engine is cancelling it, nothing is sent.
        var orphaned = false
        /// Still being tokenized: not in the engine yet.
        var pending = true
        /// A cancel or the deadline came while it was pending.
        var cancelRequested = false
        var deadline: Scheduled<Void>?
    }

    public let loop: any EventLoop
    private let group: MultiThreadedEventLoopGroup
    let configuration: WorkerConfiguration
    let model: WorkerModel
    let logger: Logger
    private(set) var engine: EngineThread
    private(set) var links: [RouterLink]
    private(set) var routes: [UInt64: Route] = [:]
    private var nextEngineID: UInt64 = 1
    private(set) var draining = false
    private var finishing = false
    private var metrics = WorkerMetrics()
    private let tokenizing = DispatchQueue(label: "specula-worker-tokenize")
    private let done: EventLoopPromise<Void>
    /// Status reports and the watchdog (`WorkerService+Supervision.swift`).
    var supervision = Supervision()

    /// Starts the engine thread; call ``start()`` to connect.
    public init(configuration: WorkerConfiguration, model: WorkerModel, engine: sending InferenceEngine, logger: Logger) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        self.loop = loop
        self.configuration = configuration
        self.model = model
        self.logger = logger
        links = configuration.routers.enumerated().map {
            RouterLink(index: $0.offset, address: $0.element, backoff: configuration.backoff)
        }
        done = loop.makePromise()
        let relay = EventRelay()
        self.engine = EngineThread(engine: engine, name: "specula-engine") { events in
            let stamp = NIODeadline.now()
            loop.execute { relay.service?.engineEvents(events, stamp: stamp) }
        }
        relay.service = self
    }

    /// Succeeds once the worker has drained: every request finished and every connection closed.
    public var finished: EventLoopFuture<Void> { done.futureResult }

    /// Connects to every router.
    public func start() {
        loop.execute {
            self.logger.info("worker starting", metadata: [
                "routers": "\(self.configuration.routers.map(\.description).joined(separator: ","))",
                "model": "\(self.model.id)", "capacity": "\(self.configuration.capacity)",
                "speculation": "\(self.model.supportsSpeculation)",
            ])
            for link in self.links { self.connect(link) }
        }
    }

    /// Takes nothing new, tells every router (`drain`), finishes what it holds, then completes ``finished``.
    public func drain(reason: String) {
        loop.execute { self.beginDrain(reason: reason) }
    }

    /// Stops the event loop thread (after ``finished``).
    public func shutdown() async throws {
        try await group.shutdownGracefully()
    }

    // MARK: - Connections

    private func connect(_ link: RouterLink) {
        guard !draining, link.state.startConnecting() else { return }
        let generation = link.beginAttempt()
        let index = link.index
        let handshake = WorkerHandshake(proof: configuration.proof, workerName: configuration.name)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(configuration.heartbeatTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var handlers: [any ChannelHandler] = [ByteToMessageHandler(try FrameDecoder()), MessageToByteHandler(try FrameEncoder())]
                    if let capture = self.captureHandler(router: link.address) { handlers.append(capture) }
                    handlers += [WireSessionHandler(worker: handshake), LinkHandler(service: self, link: index, generation: generation)]
                    try channel.pipeline.syncOperations.addHandlers(handlers)
                }
            }
        logger.debug("connecting", metadata: ["router": "\(link.address)", "attempt": "\(link.state.failedAttempts + 1)"])
        bootstrap.connect(host: link.address.host, port: link.address.port).whenFailure { error in
            guard link.generation == generation, link.channel == nil else { return }
            link.closeReason = "connect failed: \(error)"
            self.disconnected(link)
        }
    }

    /// The frame recorder of a new connection, when capture is on.
    private func captureHandler(router: RouterAddress) -> WireCaptureHandler? {
        let logger = self.logger
        return configuration.capture?.makeHandler(sender: .worker) { error in
            logger.warning("wire capture stopped", metadata: ["router": "\(router)", "reason": "\(error)"])
        }
    }

    func linkActive(_ index: Int, generation: Int, channel: any Channel) {
        let link = links[index]
        guard link.generation == generation else { return }
        link.channel = channel
        link.state.connected()
        link.liveness = HeartbeatClock(now: .now())
        startLivenessTimer(link, generation: generation)
    }

    func linkAuthenticated(_ index: Int, generation: Int, version: UInt16) {
        let link = links[index]
        guard link.generation == generation else { return }
        link.authenticated = true
        link.liveness.received(at: .now())
        guard let register = link.state.authenticated(model.register(capacity: configuration.capacity)) else { return }
        logger.info("authenticated", metadata: ["router": "\(link.address)", "version": "\(version)"])
        link.send(register)
    }

    func linkError(_ index: Int, generation: Int, error: any Error) {
        let link = links[index]
        guard link.generation == generation else { return }
        link.closeReason = link.closeReason ?? "\(error)"
        if let wire = error as? WireError, wire.code == .authenticationFailed {
            logger.error("authentication failed; the connection is refused", metadata: [
                "router": "\(link.address)", "reason": "\(wire.message)",
            ])
        }
    }

    func linkClosed(_ index: Int, generation: Int) {
        let link = links[index]
        guard link.generation == generation else { return }
        disconnected(link)
    }

    /// The connection is gone: cancel what it held (the router re-queues it), void its credits,
    /// schedule the retry.
    private func disconnected(_ link: RouterLink) {
        let wasRegistered = link.state.acceptsWork || link.state.phase == .draining
        let neverConnected = link.state.phase == .connecting
        link.channel = nil
        link.livenessTimer?.cancel()
        link.livenessTimer = nil
        let outcome = link.state.disconnected()
        for requestID in outcome.orphaned {
            guard let engineID = link.engineIDs[requestID] else { continue }
            routes[engineID]?.orphaned = true
            stop(engineID)
        }
        link.engineIDs = [:]
        if wasRegistered { link.metrics.disconnects.increment() }
        var metadata: Logger.Metadata = ["router": "\(link.address)", "reason": "\(link.closeReason ?? "closed by peer")"]
        if !outcome.orphaned.isEmpty { metadata["cancelled_requests"] = "\(outcome.orphaned.count)" }
        if let delay = outcome.retryAfter, !draining {
            let jittered = TimeAmount.nanoseconds(Int64(Double(delay.nanoseconds) * Double.random(in: 0.8...1.2)))
            metadata["retry_in_ms"] = "\(jittered.nanoseconds / 1_000_000)"
            link.reconnectTask = loop.scheduleTask(in: jittered) { self.connect(link) }
        }
        logger.log(level: wasRegistered ? .warning : .info, neverConnected ? "connect failed" : "disconnected", metadata: metadata)
        updateConnectionGauge()
        grantCredits()
        finishDrainIfDone()
    }

    private func startLivenessTimer(_ link: RouterLink, generation: Int) {
        let period = TimeAmount.nanoseconds(max(min(configuration.heartbeatInterval.nanoseconds,
                                                   configuration.heartbeatTimeout.nanoseconds) / 4, 10_000_000))
        link.livenessTimer = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { task in
            guard link.generation == generation, link.channel != nil else {
                task.cancel()
                return
            }
            self.checkLiveness(link)
        }
    }

    private func checkLiveness(_ link: RouterLink) {
        switch link.liveness.check(now: .now(), interval: configuration.heartbeatInterval,
                                   timeout: configuration.heartbeatTimeout, mayAsk: link.authenticated) {
        case .quiet:
            break
        case .ask(let heartbeat):
            link.send(.heartbeat(heartbeat))
        case .silent(let silence):
            let what = link.authenticated ? "nothing received" : "no handshake completed"
            link.fail(WireError(.heartbeatTimeout, "\(what) from router \(link.address) for \(silence.nanoseconds / 1_000_000) ms; expected a frame at least every \(configuration.heartbeatTimeout.nanoseconds / 1_000_000) ms"))
            logger.warning("heartbeat timeout", metadata: ["router": "\(link.address)", "silent_ms": "\(silence.nanoseconds / 1_000_000)"])
        }
    }

    // MARK: - Messages from a router

    func linkReceived(_ index: Int, generation: Int, message: WireMessage) {
        let link = links[index]
        guard link.generation == generation else { return }
        link.liveness.received(at: .now())
        switch message {
        case .registration(let registration): registered(link, registration)
        case .assign(let assignment): assign(assignment, on: link)
        case .cancel(let cancel):
            if let engineID = link.engineIDs[cancel.requestID] { stop(engineID) }
        case .tokenize(let request):
            answerTokenization(on: link) { $0.answer(request) }
        case .detokenize(let request):
            answerTokenization(on: link) { $0.answer(request) }
        case .heartbeat:
            break
        case .error(let error):
            logger.error("router reported an error", metadata: [
                "router": "\(link.address)", "code": "\(error.code)", "message": "\(error.message)",
            ])
            link.close(reason: "router error \(error.code): \(error.message)")
        default:
            link.fail(WireError(.unexpectedFrame, "worker received \(message.type), which only a worker sends"))
        }
    }

    private func registered(_ link: RouterLink, _ registration: Registration) {
        switch link.state.registration(registration) {
        case .accepted:
            link.metrics.connects.increment()
            logger.info("registered", metadata: ["router": "\(link.address)", "model": "\(model.id)"])
            updateConnectionGauge()
            grantCredits()
        case .refused(let reason):
            logger.error("registration refused", metadata: ["router": "\(link.address)", "reason": "\(reason)"])
            link.closeReason = "registration refused: \(reason)"
        case .violation(let error):
            link.fail(error)
        }
    }

    private func assign(_ assignment: Assignment, on link: RouterLink) {
        switch link.state.assign(assignment.requestID) {
        case .violation(let error):
            link.fail(error)
        case .refuse(let message):
            refuse(assignment.requestID, on: link, message: message)
        case .run:
            link.metrics.assignments.increment()
            let engineID = nextEngineID
            nextEngineID += 1
            var route = Route(link: link.index, generation: link.generation, requestID: assignment.requestID)
            if assignment.timeoutMilliseconds > 0 {
                route.deadline = loop.scheduleTask(in: .milliseconds(Int64(assignment.timeoutMilliseconds))) {
                    self.stop(engineID)
                }
            }
            routes[engineID] = route
            link.engineIDs[assignment.requestID] = engineID
            metrics.inFlight.record(routes.count)
            // Tokenizing or rendering a long prompt takes a while: off the event loop, so heartbeats
            // and other requests' tokens keep flowing.
            let model = self.model
            tokenizing.async {
                let request = Result { try model.request(for: assignment, engineID: engineID) }
                self.loop.execute { self.admit(engineID, request) }
            }
        }
    }

    /// Answers a router's `tokenize` or `detokenize` off the event loop (like prompts, long text takes a
    /// while), on the connection that asked, if it is still up.
    private func answerTokenization(on link: RouterLink, _ work: @escaping @Sendable (WorkerModel) -> TokenizationResult) {
        guard link.state.acceptsTokenization else {
            link.fail(WireError(.unexpectedFrame, "worker received a tokenization request in phase \(link.state.phase); expected it only after registration"))
            return
        }
        let generation = link.generation
        let model = self.model
        tokenizing.async {
            let result = work(model)
            self.loop.execute {
                guard link.generation == generation else { return }
                link.send(.tokenization(result))
            }
        }
    }

    /// A tokenized request enters the engine, unless it was cancelled or orphaned meanwhile.
    private func admit(_ engineID: UInt64, _ request: Result<GenerationRequest, any Error>) {
        guard var route = routes[engineID] else { return }
        route.pending = false
        routes[engineID] = route
        let failure: String?
        switch request {
        case .success(let request) where !route.cancelRequested && !route.orphaned:
            failure = engine.submit(request) ? nil : "the worker is stopping and takes no new requests"
        case .success:
            failure = nil
            deliver([.finished(request: engineID, reason: .cancelled, usage: Usage(promptTokens: 0, completionTokens: 0),
                               speculation: Engine.SpeculationCounts(), message: nil)], stamp: .now())
        case .failure(let error):
            failure = "\(error)"
        }
        guard let failure else { return }
        logger.warning("request refused", metadata: ["request": "\(route.requestID)", "reason": "\(failure)"])
        deliver([.finished(request: engineID, reason: .error, usage: Usage(promptTokens: 0, completionTokens: 0),
                           speculation: Engine.SpeculationCounts(), message: failure)], stamp: .now())
    }

    /// Cancels a request in the engine, or marks it when it is still being tokenized.
    private func stop(_ engineID: UInt64) {
        guard var route = routes[engineID] else { return }
        if route.pending {
            route.cancelRequested = true
            routes[engineID] = route
        } else {
            engine.cancel(engineID)
        }
    }

    private func refuse(_ requestID: UInt64, on link: RouterLink, message: String) {
        logger.warning("request refused", metadata: ["router": "\(link.address)", "request": "\(requestID)", "reason": "\(message)"])
        metrics.finished(reason: "error")
        link.send(.finish(Finish(requestID: requestID, reason: .error, promptTokens: 0, completionTokens: 0, errorMessage: message)))
    }

    // MARK: - Events from the engine

    private func engineEvents(_ events: [EngineEvent], stamp: NIODeadline) {
        guard configuration.timesWire else {
            deliver(events, stamp: stamp)
            return
        }
        metrics.recordHop(.now() - stamp)
        let start = threadCPUNanoseconds()
        let flush = deliver(events, stamp: stamp)
        let tokens = events.reduce(0) { if case .tokens(_, let ids, _, _) = $1 { $0 + ids.count } else { $0 } }
        metrics.recordDelivery(cpuNanoseconds: threadCPUNanoseconds() - start, flushNanoseconds: flush, tokens: tokens)
    }

    /// Writes each event to the connection that assigned its request, then re-offers freed room.
    /// - Returns: with wire timing on, the thread CPU time spent flushing; else 0.
    @discardableResult
    private func deliver(_ events: [EngineEvent], stamp: NIODeadline) -> Int64 {
        var touched: [Int: RouterLink] = [:]
        var toClose: [RouterLink] = []
        for event in events {
            switch event {
            case .tokens(let engineID, let ids, let text, let logprobs):
                guard let link = liveLink(for: engineID), let route = routes[engineID] else { continue }
                metrics.generatedTokens.increment(by: ids.count)
                var promise: EventLoopPromise<Void>?
                if configuration.timesWire {
                    promise = loop.makePromise()
                    promise?.futureResult.whenSuccess { self.metrics.recordWireOverhead(.now() - stamp) }
                }
                link.write(.tokens(TokenEvent(requestID: route.requestID, tokenIDs: ids.map { UInt32(clamping: $0) }, text: text,
                                              logprobs: logprobs.isEmpty ? nil : model.wireLogprobs(ids, logprobs))),
                           promise: promise)
                touched[link.index] = link
            case .finished(let engineID, let reason, let usage, let speculation, let message):
                let link = liveLink(for: engineID)
                guard let route = routes.removeValue(forKey: engineID) else { continue }
                route.deadline?.cancel()
                metrics.finished(reason: reason.rawValue)
                metrics.inFlight.record(routes.count)
                guard let link else { continue }
                link.engineIDs.removeValue(forKey: route.requestID)
                link.write(.finish(Self.finish(route.requestID, reason, usage, speculation, message)))
                touched[link.index] = link
                if link.state.finished(route.requestID) { toClose.append(link) }
            }
        }
        let flushStart = configuration.timesWire ? threadCPUNanoseconds() : 0
        for link in touched.values { link.channel?.flush() }
        let flushCPU = configuration.timesWire ? threadCPUNanoseconds() - flushStart : 0
        for link in toClose { link.close(reason: "drained") }
        grantCredits()
        finishDrainIfDone()
        return flushCPU
    }

    /// The link a request's frames go to, unless its connection died since it was assigned.
    private func liveLink(for engineID: UInt64) -> RouterLink? {
        guard let route = routes[engineID], !route.orphaned else { return nil }
        let link = links[route.link]
        return link.generation == route.generation && link.channel != nil ? link : nil
    }

    static func finish(_ requestID: UInt64, _ reason: FinishReason, _ usage: Usage, _ counts: Engine.SpeculationCounts,
                       _ message: String?) -> Finish {
        let wireReason: Finish.Reason = switch reason {
        case .stop: .stop
        case .length: .length
        case .cancelled: .cancelled
        case .error: .error
        }
        let speculation = Wire.SpeculationCounts(
            drafts: UInt32(clamping: counts.drafts), draftTokens: UInt32(clamping: counts.draftTokens),
            acceptedTokens: UInt32(clamping: counts.acceptedTokens), steps: UInt32(clamping: counts.steps),
            acceptedPerPosition: counts.acceptedPerPosition.map { UInt32(clamping: $0) })
        return Finish(requestID: requestID, reason: wireReason, promptTokens: UInt32(clamping: usage.promptTokens),
                      completionTokens: UInt32(clamping: usage.completionTokens), speculation: speculation,
                      errorMessage: reason == .error ? (message ?? "the engine failed the request") : "")
    }

    // MARK: - Credits and draining

    /// Promises the room nobody holds yet to the serving connections, evenly.
    private func grantCredits() {
        guard !draining else { return }
        let serving = links.filter { $0.state.acceptsWork }
        let free = CreditLedger.freeRoom(capacity: configuration.capacity, inFlight: routes.count,
                                         outstandingCredits: links.map(\.state.credits))
        let grants = CreditLedger.distribute(free: free, holdings: serving.map(\.state.credits))
        for (link, grant) in zip(serving, grants) {
            if let message = link.state.grant(grant) { link.send(message) }
        }
    }

    private func beginDrain(reason: String) {
        guard !draining else { return }
        draining = true
        logger.info("draining", metadata: ["reason": "\(reason)", "in_flight": "\(routes.count)"])
        statusChanged()
        for link in links {
            link.reconnectTask?.cancel()
            let outcome = link.state.drain(reason: reason)
            if let message = outcome.message { link.send(message) }
            if outcome.closeNow { link.close(reason: "draining") }
        }
        finishDrainIfDone()
    }

    private func finishDrainIfDone() {
        guard draining, !finishing, routes.isEmpty, links.allSatisfy({ $0.channel == nil }) else { return }
        finishing = true
        let engine = self.engine
        let done = self.done
        let summary = configuration.timesWire ? metrics.overheadSummary : nil
        let logger = self.logger
        engine.drain()
        Thread.detachNewThread {
            engine.waitUntilStopped()
            logger.info("drained", metadata: summary.map { ["wire_overhead": "\($0)"] })
            done.succeed()
        }
    }

    private func updateConnectionGauge() {
        metrics.registeredConnections.record(links.filter { $0.state.acceptsWork }.count)
        statusChanged()
    }
}

/// Lets the engine thread's callback reach the service, which does not exist yet when the engine
/// thread is created. Written once before any event can arrive; read on the loop.
private final class EventRelay: @unchecked Sendable {
    weak var service: WorkerService?
}
