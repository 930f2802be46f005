import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay on 127.0.0.1 for tests: each connection it accepts is joined to a new connection to
/// `target`, bytes pass both ways unchanged, and `cut()` closes every joined pair at once, as a lost
/// network would. Connections made after a cut are relayed again.
package final class TCPRelay: Sendable {
    package let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let server: any Channel
    private let joined: JoinedConnections

    private init(port: Int, group: MultiThreadedEventLoopGroup, server: any Channel, joined: JoinedConnections) {
        self.port = port
        self.group = group
        self.server = server
        self.joined = joined
    }

    package static func start(to target: Int) async throws -> TCPRelay {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let joined = JoinedConnections()
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Nothing is read from a client before its own connection to the target is there to take it.
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                // Both connections live on the client's event loop, where the handlers are added.
                ClientBootstrap(group: inbound.eventLoop).connect(host: "127.0.0.1", port: target).flatMap { outbound in
                    joined.add(inbound, outbound)
                    return inbound.eventLoop.makeCompletedFuture {
                        try inbound.pipeline.syncOperations.addHandler(RelayHandler(partner: outbound))
                        try outbound.pipeline.syncOperations.addHandler(RelayHandler(partner: inbound))
                    }.flatMap { inbound.setOption(.autoRead, value: true) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = server.localAddress?.port else { throw ProcessError("the relay has no port") }
        return TCPRelay(port: port, group: group, server: server, joined: joined)
    }

    /// Closes both sides of every connection relayed so far.
    package func cut() {
        for channel in joined.takeAll() { channel.close(promise: nil) }
    }

    package func stop() async {
        cut()
        try? await server.close()
        try? await group.shutdownGracefully()
    }
}

private final class JoinedConnections: Sendable {
    private let channels = Mutex<[any Channel]>([])

    func add(_ a: any Channel, _ b: any Channel) { channels.withLock { $0 += [a, b] } }
    func takeAll() -> [any Channel] { channels.withLock { all in defer { all = [] }; return all } }
}

/// Writes what one side reads to the other, and closes the other when this side closes.
private final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let partner: any Channel

    init(partner: any Channel) { self.partner = partner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
