public import Logging
public import NIOCore
import NIOPosix
import NIOSSL

/// The HTTP front end: one listening socket serving HTTP/1.1 and HTTP/2 (prior knowledge, `h2c`
/// upgrade, or ALPN `h2` over TLS) to an ``HTTPService``, within ``HTTPLimits``.
public final class HTTPServer: Sendable {
    /// The bound port (the one the system picked when started with port 0).
    public let port: Int
    private let serverChannel: any Channel
    private let lifecycle: ServerLifecycle

    private init(port: Int, serverChannel: any Channel, lifecycle: ServerLifecycle) {
        self.port = port
        self.serverChannel = serverChannel
        self.lifecycle = lifecycle
    }

    /// Binds and starts serving.
    /// - Parameters:
    ///   - host: The address to bind (`127.0.0.1`, `0.0.0.0`, `::`).
    ///   - port: The port; 0 lets the system pick one (see ``port``).
    ///   - tls: Certificate and key for TLS; nil serves cleartext.
    ///   - limits: What one client may ask; see ``HTTPLimits`` for the defaults.
    ///   - service: Serves every request, each in its own task.
    ///   - group: Event loops for the listener and the connections.
    ///   - logger: Connection-level events (protocol errors, resets) at debug level.
    ///   - serviceExecution: Where each request's task runs; the global executor unless the service is
    ///     light and never blocks (see ``ServiceExecution``).
    /// - Throws: ``HTTPFrontendError/invalidConfiguration(_:)`` for bad limits or TLS files, or the
    ///   socket error when binding fails.
    public static func start(host: String, port: Int, tls: TLSFiles?, limits: HTTPLimits = .default,
                             service: any HTTPService, group: any EventLoopGroup, logger: Logger,
                             serviceExecution: ServiceExecution = .globalExecutor) async throws -> HTTPServer {
        try limits.validate()
        let tlsContext = try tls?.makeContext()
        let lifecycle = ServerLifecycle()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                guard lifecycle.register(channel) else { return channel.close() }
                let connection = ConnectionContext(service: service, limits: limits, logger: logger, lifecycle: lifecycle,
                                                   isTLS: tlsContext != nil, remoteAddress: channel.remoteAddress,
                                                   serviceExecution: serviceExecution)
                return channel.eventLoop.makeCompletedFuture {
                    try ConnectionSetup.configure(channel, tls: tlsContext, connection: connection)
                }
            }
            .bind(to: SocketAddress.listening(host: host, port: port)).get()
        guard let boundPort = channel.localAddress?.port else {
            try? await channel.close()
            throw HTTPFrontendError.invalidConfiguration("the listening socket on \(host):\(port) has no port")
        }
        logger.debug("HTTP front end listening", metadata: ["host": "\(host)", "port": "\(boundPort)", "tls": "\(tls != nil)"])
        return HTTPServer(port: boundPort, serverChannel: channel, lifecycle: lifecycle)
    }

    /// Stops accepting connections and lets requests in progress finish for up to `grace`, then closes
    /// whatever is still open. HTTP/2 connections get `GOAWAY` naming the last stream they started;
    /// HTTP/1.1 responses in progress carry `connection: close`; idle connections close at once; a
    /// request that starts meanwhile gets 503. Returns once every connection is closed.
    public func shutdown(grace: Duration) async {
        let open = lifecycle.beginDraining()
        try? await serverChannel.close()
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let closed = EventLoopFuture.andAllComplete(open.map(\.closeFuture), on: serverChannel.eventLoop)
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await closed.get()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: grace)
                return false
            }
            if await group.next() == false {
                for channel in lifecycle.openConnections { channel.close(promise: nil) }
            }
            group.cancelAll()
        }
    }
}

extension SocketAddress {
    /// The address to bind a listener to: a literal IP as is, else the host name resolved. A literal
    /// skips getaddrinfo, which (asked for every socket type) probes the interfaces over netlink, a
    /// socket family the systemd units refuse (RestrictAddressFamilies=).
    public static func listening(host: String, port: Int) throws -> SocketAddress {
        if let literal = try? SocketAddress(ipAddress: host, port: port) { return literal }
        return try SocketAddress.makeAddressResolvingHost(host, port: port)
    }
}
