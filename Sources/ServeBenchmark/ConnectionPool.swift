import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// HTTP/1.1 keep-alive connections to the target: a request takes an idle one or opens a new one,
/// and gives it back when the response ended cleanly.
final class ConnectionPool: Sendable {
    private let group: any EventLoopGroup
    private let target: BenchTarget
    private let idle = Mutex<[any Channel]>([])
    private let opened = Atomic<Int>(0)

    init(group: any EventLoopGroup, target: BenchTarget) {
        self.group = group
        self.target = target
    }

    /// Connections opened so far.
    var connectionsOpened: Int { opened.load(ordering: .relaxed) }

    func acquire() async throws -> any Channel {
        while let channel = idle.withLock({ $0.popLast() }) {
            if channel.isActive { return channel }
        }
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(BenchExchangeHandler())
                }
            }
            .connect(host: target.host, port: target.port).get()
        opened.add(1, ordering: .relaxed)
        return channel
    }

    func release(_ channel: any Channel, reusable: Bool) {
        if reusable && channel.isActive {
            idle.withLock { $0.append(channel) }
        } else {
            channel.close(promise: nil)
        }
    }

    func closeAll() async {
        for channel in idle.withLock({ list in defer { list.removeAll() }; return list }) {
            try? await channel.close()
        }
    }

    /// Runs one exchange on a pooled connection. A connection that cannot be opened is a failed
    /// outcome, not a thrown error: the benchmark counts it and goes on.
    func perform(head: HTTPRequestHead, body: ByteBuffer?, mode: BenchExchange.Mode, start: NIODeadline,
                 timeout: TimeAmount) async -> ExchangeOutcome {
        let channel: any Channel
        do {
            channel = try await acquire()
        } catch {
            return ExchangeOutcome(failure: "cannot connect to \(target.authority): \(error)", reusable: false)
        }
        let once = OutcomeOnce(on: channel.eventLoop)
        let exchange = BenchExchange(head: head, body: body, mode: mode, start: start, timeout: timeout, outcome: once)
        channel.writeAndFlush(exchange).whenFailure { error in
            once.complete(ExchangeOutcome(failure: "cannot send the request: \(error)", reusable: false))
        }
        let outcome = (try? await once.future.get()) ?? ExchangeOutcome(failure: "no outcome", reusable: false)
        release(channel, reusable: outcome.reusable)
        return outcome
    }
}
