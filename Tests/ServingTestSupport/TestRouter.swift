import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Wire

/// A router for tests, built from the wire module (shared by the worker and deployment tests): listens on 127.0.0.1, runs the router side of the
/// handshake, and records what each worker connection sends. Tests script the router's half by hand.
package final class TestRouter: Sendable {
    package let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let server: any Channel
    private let accepted: EventQueue<PeerConnection>
    private let open: Mutex<[PeerConnection]>

    private init(port: Int, group: MultiThreadedEventLoopGroup, server: any Channel, accepted: EventQueue<PeerConnection>) {
        self.port = port
        self.group = group
        self.server = server
        self.accepted = accepted
        open = Mutex([])
    }

    /// Listens on `port` (0: any free port) with this shared token.
    package static func start(token: [UInt8], port: Int = 0) async throws -> TestRouter {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let accepted = EventQueue<PeerConnection>()
        let proof = try HandshakeProof(token: token)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = PeerConnection(channel: channel)
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(try FrameDecoder()),
                        MessageToByteHandler(try FrameEncoder()),
                        MuteHandler(connection: connection),
                        WireSessionHandler(router: RouterHandshake(proof: proof)),
                        PeerHandler(connection: connection),
                    ])
                    accepted.push(connection)
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        guard let bound = server.localAddress?.port else { throw ProcessError("test router has no port") }
        return TestRouter(port: bound, group: group, server: server, accepted: accepted)
    }

    /// The next worker connection (accepted, handshake not necessarily done).
    package func nextConnection(within timeout: Duration = .seconds(20)) async throws -> PeerConnection {
        let connection = try await accepted.next(within: timeout, waitingFor: "a worker connection on port \(port)")
        open.withLock { $0.append(connection) }
        return connection
    }

    /// Stops listening and drops every connection, as a crashed router would.
    package func stop() async {
        try? await server.close()
        for connection in open.withLock({ $0 }) { connection.close() }
        try? await group.shutdownGracefully()
    }
}

/// What a worker connection did, as the test router saw it.
package enum PeerEvent: Sendable, Equatable {
    case authenticated(workerName: String)
    case message(WireMessage)
    case error(String)
    case closed
}

/// One worker connection on the test router.
package final class PeerConnection: Sendable {
    package let channel: any Channel
    package let events = EventQueue<PeerEvent>()
    let muted = Atomic<Bool>(false)
    private let heartbeats = Atomic<UInt64>(0)
    private let tokensHook = Mutex<(@Sendable () -> Void)?>(nil)

    init(channel: any Channel) {
        self.channel = channel
    }

    package func send(_ message: WireMessage) {
        channel.writeAndFlush(message, promise: nil)
    }

    /// Runs `action` once, on the connection's event loop, when the next `tokens` message arrives,
    /// before the test can see it. A test that must act while a request still runs (freeze the worker,
    /// cancel the request) cannot wait for its own task: under a loaded parallel run the polling task
    /// resumed only after the worker had made all 1000 tokens.
    package func whenTokensArrive(_ action: @escaping @Sendable () -> Void) {
        tokensHook.withLock { $0 = action }
    }

    func takeTokensHook() -> (@Sendable () -> Void)? {
        tokensHook.withLock { hook in
            defer { hook = nil }
            return hook
        }
    }

    /// Sends a heartbeat every `interval` from the connection's event loop until cancelled: the test
    /// router sends nothing unprompted. Sent from a test's own task, the heartbeats stalled with it
    /// under a loaded parallel run, and a worker that heard nothing for 6.5 s dropped the router.
    package func keepAlive(every interval: TimeAmount) -> RepeatedTask {
        channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            self.send(.heartbeat(Heartbeat(sequence: self.heartbeats.add(1, ordering: .relaxed).newValue)))
        }
    }

    /// From now on nothing reaches the worker, heartbeat replies included.
    package func mute() { muted.store(true, ordering: .relaxed) }

    package func close() { channel.close(promise: nil) }

    package func next(within timeout: Duration = .seconds(20)) async throws -> PeerEvent {
        try await events.next(within: timeout, waitingFor: "an event from the worker")
    }

    /// The next message that is not a heartbeat; throws on anything else (errors, close).
    package func nextMessage(within timeout: Duration = .seconds(20)) async throws -> WireMessage {
        let deadline = ContinuousClock.now + timeout
        while true {
            switch try await next(within: max(deadline - ContinuousClock.now, .zero)) {
            case .message(.heartbeat): continue
            case .message(let message): return message
            case let other: throw ProcessError("expected a message from the worker, got \(other)")
            }
        }
    }

    /// Handshake, `register`, then `registration(accepted)`.
    @discardableResult
    package func register() async throws -> Register {
        guard case .authenticated = try await next() else { throw ProcessError("expected the worker to authenticate") }
        guard case .register(let register) = try await nextMessage() else { throw ProcessError("expected register") }
        send(.registration(Registration(accepted: true)))
        return register
    }

    /// ``register()``, then the initial credits.
    package func acceptRegistration() async throws -> (register: Register, credits: UInt32) {
        let register = try await register()
        guard case .credits(let credits) = try await nextMessage() else { throw ProcessError("expected credits") }
        return (register, credits.count)
    }

    /// Credits that arrive within `window` (heartbeats skipped; anything else throws).
    package func credits(within window: Duration) async throws -> UInt32 {
        var total: UInt32 = 0
        let deadline = ContinuousClock.now + window
        while ContinuousClock.now < deadline {
            guard let event = try? await events.next(within: .milliseconds(20), waitingFor: "credits") else { continue }
            switch event {
            case .message(.credits(let credits)): total += credits.count
            case .message(.heartbeat): continue
            case let other: throw ProcessError("expected credits, got \(other)")
            }
        }
        return total
    }

    /// With the worker frozen (SIGSTOP): reads what it sent before it stopped, until nothing has
    /// arrived for `quiet`. Returns the token count read and whether a `finish` was among them, so a
    /// drain test knows for certain that its request is still running before it sends SIGTERM.
    package func readUntilQuiet(_ quiet: Duration = .milliseconds(300)) async throws -> (tokens: Int, finished: Bool) {
        var tokens = 0
        var finished = false
        while let event = try? await events.next(within: quiet, waitingFor: "what the worker sent before it stopped") {
            switch event {
            case .message(.tokens(let event)): tokens += event.tokenIDs.count
            case .message(.finish): finished = true
            case .message(.heartbeat), .message(.credits): continue
            case let other: throw ProcessError("unexpected \(other) from a stopped worker")
            }
        }
        return (tokens, finished)
    }

    /// Collects `tokens` of `requestID` until its `finish`.
    package func collect(_ requestID: UInt64) async throws -> (text: String, ids: [UInt32], finish: Finish) {
        var text = ""
        var ids: [UInt32] = []
        while true {
            switch try await nextMessage() {
            case .tokens(let event) where event.requestID == requestID:
                text += event.text
                ids += event.tokenIDs
            case .finish(let finish) where finish.requestID == requestID:
                return (text, ids, finish)
            case .credits:
                continue
            case let other:
                throw ProcessError("while collecting request \(requestID): unexpected \(other)")
            }
        }
    }
}

/// Drops outbound frames once the connection is muted (sits below WireSessionHandler, so the
/// handler's automatic heartbeat replies are dropped too).
private final class MuteHandler: ChannelOutboundHandler {
    typealias OutboundIn = WireMessage
    typealias OutboundOut = WireMessage
    let connection: PeerConnection

    init(connection: PeerConnection) { self.connection = connection }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if connection.muted.load(ordering: .relaxed) {
            promise?.succeed()
        } else {
            context.write(data, promise: promise)
        }
    }
}

private final class PeerHandler: ChannelInboundHandler {
    typealias InboundIn = WireMessage
    let connection: PeerConnection

    init(connection: PeerConnection) { self.connection = connection }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .authenticated(let name, _)? = event as? WireSessionEvent {
            connection.events.push(.authenticated(workerName: name))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        if case .tokens = message, let hook = connection.takeTokensHook() { hook() }
        connection.events.push(.message(message))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.events.push(.error("\(error)"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.events.push(.closed)
    }
}

/// A thread-safe FIFO that tests poll with a deadline.
package final class EventQueue<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    package init() {}

    package func push(_ item: Element) { items.withLock { $0.append(item) } }

    package func next(within timeout: Duration, waitingFor what: String) async throws -> Element {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let item = items.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return item }
            guard ContinuousClock.now < deadline else { throw ProcessError("timed out after \(timeout) waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

package struct ProcessError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
