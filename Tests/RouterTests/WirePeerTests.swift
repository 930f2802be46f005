import NIOCore
import NIOPosix
import Synchronization
import Testing
import Wire
@testable import Router

/// A worker side written from the wire module, for what a real worker never does: register limits
/// that contradict the workers already serving a model.
final class WirePeer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WireMessage
    let received = Mutex<[WireMessage]>([])
    let closed = Atomic<Bool>(false)
    private let register: Register
    private let credits: UInt32

    init(register: Register, credits: UInt32) {
        self.register = register
        self.credits = credits
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .authenticated? = event as? WireSessionEvent {
            context.writeAndFlush(wrapOutboundOut(.register(register)), promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        received.withLock { $0.append(message) }
        if case .registration(let registration) = message, registration.accepted, credits > 0 {
            context.writeAndFlush(wrapOutboundOut(.credits(Credits(count: credits))), promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed.store(true, ordering: .relaxed)
    }

    typealias OutboundOut = WireMessage

    static func connect(to port: Int, group: any EventLoopGroup, name: String, register: Register, credits: UInt32 = 0) async throws -> WirePeer {
        let peer = WirePeer(register: register, credits: credits)
        let proof = try HandshakeProof(token: Array(SpeculaChild.token.utf8))
        _ = try await ClientBootstrap(group: group).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandlers([
                    ByteToMessageHandler(try FrameDecoder()), MessageToByteHandler(try FrameEncoder()),
                    WireSessionHandler(worker: WorkerHandshake(proof: proof, workerName: name)), peer,
                ])
            }
        }.connect(host: "127.0.0.1", port: port).get()
        return peer
    }

    func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

@Suite("Router against scripted wire peers", .serialized, .timeLimit(.minutes(3)))
struct WirePeerTests {
    static let register = Register(modelID: "pycode-6m", contextLength: 1024, maxBatchSequences: 4, kvCapacityTokens: 4096,
                                   maxPromptTokens: 1000, maxOutputTokens: 1000, supportsSpeculation: false)

    @Test("a worker whose limits contradict the model's other workers is refused with the reason, then closed")
    func inconsistentRegistration() async throws {
        let harness = try await RouterHarness.start(workers: 0)
        defer { Task { await harness.stop() } }
        let first = try await WirePeer.connect(to: harness.workerPort, group: harness.group, name: "peer-1", register: Self.register)
        try await first.waitUntil("the first registration") { first.received.withLock { !$0.isEmpty } }
        #expect(first.received.withLock { $0.first } == .registration(Registration(accepted: true)))
        var other = Self.register
        other.contextLength = 2048
        other.maxPromptTokens = 2000
        let second = try await WirePeer.connect(to: harness.workerPort, group: harness.group, name: "peer-2", register: other)
        try await second.waitUntil("the refusal and the close") { second.closed.load(ordering: .relaxed) }
        let messages = second.received.withLock { $0 }.filter { if case .heartbeat = $0 { false } else { true } }
        guard case .registration(let registration)? = messages.first, case .error(let error)? = messages.last else {
            Issue.record("expected a refusal and an error frame, got \(messages)"); return
        }
        #expect(!registration.accepted && registration.reason.contains("context_length 2048"))
        #expect(error.code == .registrationRefused && error.requestID == nil)
        #expect(try await harness.router.models()["pycode-6m"]?.workers == 1, "the first worker keeps serving")
    }
}
