import NIOCore
import NIOEmbedded
import Testing
@testable import Wire

/// The handlers in `EmbeddedChannel`s: a router and workers joined by moving bytes between them.
@Suite("NIO pipeline")
struct ChannelTests {
    static let token = HandshakeTests.token

    /// Collects what reaches the end of a pipeline.
    final class Sink: ChannelInboundHandler, @unchecked Sendable {
        // Only touched on the EmbeddedChannel's thread (the test's).
        typealias InboundIn = WireMessage
        var messages: [WireMessage] = []
        var events: [WireSessionEvent] = []
        var errors: [WireError] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { messages.append(unwrapInboundIn(data)) }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? WireSessionEvent { events.append(event) }
        }
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if let error = error as? WireError { errors.append(error) }
        }
    }

    static func channel(_ session: WireSessionHandler, limits: WireLimits = .default) throws -> (EmbeddedChannel, Sink) {
        let sink = Sink()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(try FrameDecoder(limits: limits)),
            MessageToByteHandler(try FrameEncoder()),
            session, sink,
        ])
        return (channel, sink)
    }

    static func router(limits: WireLimits = .default) throws -> (EmbeddedChannel, Sink) {
        try channel(WireSessionHandler(router: RouterHandshake(proof: try HandshakeProof(token: token))), limits: limits)
    }

    static func worker(token: [UInt8] = token, name: String = "w1") throws -> (EmbeddedChannel, Sink) {
        try channel(WireSessionHandler(worker: WorkerHandshake(proof: try HandshakeProof(token: token), workerName: name)))
    }

    /// Moves bytes both ways until neither side writes.
    static func pump(_ a: EmbeddedChannel, _ b: EmbeddedChannel) throws {
        var moved = true
        while moved {
            moved = false
            while a.isActive, b.isActive, let bytes = try a.readOutbound(as: ByteBuffer.self) { try b.writeInbound(bytes); moved = true }
            while a.isActive, b.isActive, let bytes = try b.readOutbound(as: ByteBuffer.self) { try a.writeInbound(bytes); moved = true }
        }
    }

    static func connect(_ router: EmbeddedChannel, _ worker: EmbeddedChannel) throws {
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 9)
        try worker.connect(to: address).wait()
        try router.connect(to: address).wait()
        try pump(router, worker)
    }

    @Test("handshake, then messages flow both ways and heartbeats are answered")
    func session() throws {
        let (router, routerSink) = try Self.router()
        let (worker, workerSink) = try Self.worker()
        try Self.connect(router, worker)
        #expect(routerSink.events == [.authenticated(peerName: "w1", version: 1)])
        #expect(workerSink.events == [.authenticated(peerName: "router", version: 1)])

        let register = Samples.all[3]
        try worker.writeOutbound(register)
        try worker.writeOutbound(WireMessage.heartbeat(Heartbeat(sequence: 5)))
        try Self.pump(router, worker)
        try router.writeOutbound(WireMessage.assign(Samples.assignment))
        try Self.pump(router, worker)
        #expect(routerSink.messages == [register, .heartbeat(Heartbeat(sequence: 5))])
        #expect(workerSink.messages == [.heartbeat(Heartbeat(sequence: 5, isReply: true)), .assign(Samples.assignment)])
        #expect(router.isActive && worker.isActive)
    }

    @Test("a worker with the wrong token gets an authenticationFailed error frame and is closed")
    func wrongToken() throws {
        let (router, routerSink) = try Self.router()
        let (worker, workerSink) = try Self.worker(token: Array(repeating: 9, count: 32), name: "intruder")
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 9)
        try worker.connect(to: address).wait()
        try router.connect(to: address).wait()
        try worker.writeInbound(try #require(try router.readOutbound(as: ByteBuffer.self)))   // hello
        try router.writeInbound(try #require(try worker.readOutbound(as: ByteBuffer.self)))   // authenticate
        #expect(routerSink.errors.map(\.code) == [.authenticationFailed])
        #expect(!router.isActive)
        try worker.writeInbound(try #require(try router.readOutbound(as: ByteBuffer.self)))   // the error frame
        #expect(workerSink.errors.map(\.code) == [.authenticationFailed])
        #expect(workerSink.errors.first?.message.contains("worker 'intruder' failed authentication") == true)
        #expect(!worker.isActive)
        #expect(routerSink.events.isEmpty && workerSink.events.isEmpty)
    }

    @Test("a non-handshake frame before authentication is refused and closes the connection")
    func frameBeforeAuth() throws {
        let (router, sink) = try Self.router()
        try router.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        _ = try router.readOutbound(as: ByteBuffer.self)   // hello
        var encoder = try WireEncoder()
        var bytes = ByteBuffer()
        try encoder.encode(.assign(Samples.assignment), into: &bytes)
        try router.writeInbound(bytes)
        #expect(sink.errors.map(\.code) == [.unexpectedFrame])
        #expect(sink.messages.isEmpty)
        let reply = try #require(try router.readOutbound(as: ByteBuffer.self))
        #expect(try FrameErrorTests.decode(Array(reply.readableBytesView)).first.map(\.type) == .error)
        #expect(!router.isActive)
    }

    @Test("messages written before authentication are refused locally")
    func writeBeforeAuth() throws {
        let (worker, _) = try Self.worker()
        try worker.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        #expect(throws: WireError.self) { try worker.writeOutbound(WireMessage.credits(Credits(count: 1))) }
    }

    @Test("a corrupt, oversized or truncated frame closes only its own connection", arguments: [
        ("corrupt", FrameErrorTests.rawFrame(type: 0x22, flags: 1, payload: [20] + Array(repeating: 0xEE, count: 20)), WireError.Code.corruptCompression),
        ("oversized", [0, 0x10, 0, 1, 0x22, 0], .frameTooLarge),
        ("bomb", [0, 0, 0, 5, 0x22, 1, 0x80, 0x80, 0x80, 0x10, 0], .decompressedTooLarge),
        ("unknown type", FrameErrorTests.rawFrame(type: 0x66, payload: []), .unknownFrameType),
    ])
    func badFrameClosesOnlyItsConnection(name: String, bytes: [UInt8], code: WireError.Code) throws {
        let (router1, sink1) = try Self.router()
        let (worker1, _) = try Self.worker(name: "bad")
        let (router2, sink2) = try Self.router()
        let (worker2, _) = try Self.worker(name: "good")
        try Self.connect(router1, worker1)
        try Self.connect(router2, worker2)

        try router1.writeInbound(ByteBuffer(bytes: bytes))
        #expect(sink1.errors.map(\.code) == [code], "\(name)")
        let reply = try #require(try router1.readOutbound(as: ByteBuffer.self))
        guard case .error(let error) = try FrameErrorTests.decode(Array(reply.readableBytesView)).first else {
            Issue.record("no error frame"); return
        }
        #expect(error.code == code && error.requestID == nil)
        #expect(!router1.isActive)

        try worker2.writeOutbound(Samples.all[3])
        try worker2.writeOutbound(WireMessage.credits(Credits(count: 3)))
        try Self.pump(router2, worker2)
        #expect(sink2.messages == [Samples.all[3], .credits(Credits(count: 3))])
        #expect(router2.isActive && sink2.errors.isEmpty)
    }

    @Test("after the handshake: wrong direction, no register first, a second register", arguments: [
        ([WireMessage.assign(Samples.assignment)], "router received assign, which only a router sends"),
        ([Samples.all[3], .detokenize(DetokenizeRequest(requestID: 1, tokenIDs: [1]))], "router received detokenize, which only a router sends"),
        ([.credits(Credits(count: 1))], "worker sent credits before register"),
        ([Samples.all[3], .credits(Credits(count: 1)), Samples.all[3]], "worker sent register twice"),
    ])
    func sessionOrder(messages: [WireMessage], expected: String) throws {
        let (router, sink) = try Self.router()
        let (worker, _) = try Self.worker()
        try Self.connect(router, worker)
        var encoder = try WireEncoder()
        var bytes = ByteBuffer()
        for message in messages { try encoder.encode(message, into: &bytes) }
        try router.writeInbound(bytes)
        #expect(sink.errors.map(\.message) == [expected])
        #expect(sink.messages == Array(messages.dropLast()))
        #expect(!router.isActive)
    }

    @Test("a worker refuses frames only a worker sends")
    func workerDirection() throws {
        let (router, _) = try Self.router()
        let (worker, sink) = try Self.worker()
        try Self.connect(router, worker)
        var encoder = try WireEncoder()
        var bytes = ByteBuffer()
        try encoder.encode(.tokens(TokenEvent(requestID: 1, tokenIDs: [1], text: "x")), into: &bytes)
        try worker.writeInbound(bytes)
        #expect(sink.errors.map(\.code) == [.unexpectedFrame])
        #expect(!worker.isActive)
    }

    @Test("a connection-level error frame is passed on and closes; a request-level one does not")
    func peerErrors() throws {
        let (router, _) = try Self.router()
        let (worker, sink) = try Self.worker()
        try Self.connect(router, worker)
        let requestError = WireMessage.error(ErrorMessage(code: .requestFailed, requestID: 4, message: "prompt too long"))
        let connectionError = WireMessage.error(ErrorMessage(code: .internalError, message: "router shutting down"))
        try router.writeOutbound(requestError)
        try Self.pump(router, worker)
        #expect(sink.messages == [requestError] && worker.isActive)
        try router.writeOutbound(connectionError)
        try Self.pump(router, worker)
        #expect(sink.messages == [requestError, connectionError])
        #expect(!worker.isActive)
        #expect(try worker.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test("the connection closing mid-frame reports a truncated frame")
    func truncatedAtClose() throws {
        let (router, worker) = (try Self.router(), try Self.worker())
        try Self.connect(router.0, worker.0)
        try router.0.writeInbound(ByteBuffer(bytes: [0, 0, 0, 9, 0x20, 0, 1, 2]))
        #expect(router.1.errors.isEmpty)
        router.0.pipeline.fireChannelInactive()
        #expect(router.1.errors.map(\.code) == [.truncatedFrame])
    }
}
