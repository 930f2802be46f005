import Logging
import NIOCore
import Synchronization

/// The server's open connections and whether it is draining (shutting down). Shared by the listener
/// and every connection; connections consult ``isDraining`` when a request starts (503 then).
final class ServerLifecycle: Sendable {
    private struct State {
        var draining = false
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    private let state = Mutex(State())

    var isDraining: Bool { state.withLock { $0.draining } }

    /// Registers an accepted connection until it closes. Returns false (and registers nothing) once
    /// draining: the caller closes the connection.
    func register(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state in
            guard !state.draining else { return false }
            state.connections[id] = channel
            return true
        }
        if accepted {
            channel.closeFuture.whenComplete { [self] _ in
                _ = state.withLock { $0.connections.removeValue(forKey: id) }
            }
        }
        return accepted
    }

    /// Starts draining and returns the connections open at that moment.
    func beginDraining() -> [any Channel] {
        state.withLock { state in
            state.draining = true
            return Array(state.connections.values)
        }
    }

    var openConnections: [any Channel] { state.withLock { Array($0.connections.values) } }
}

/// What every handler of one connection needs to know.
struct ConnectionContext: Sendable {
    var service: any HTTPService
    var limits: HTTPLimits
    var logger: Logger
    var lifecycle: ServerLifecycle
    var isTLS: Bool
    /// `ip:port` of the client.
    var remoteAddress: String?
    var serviceExecution: ServiceExecution

    init(service: any HTTPService, limits: HTTPLimits, logger: Logger, lifecycle: ServerLifecycle, isTLS: Bool,
         remoteAddress: SocketAddress?, serviceExecution: ServiceExecution = .globalExecutor) {
        self.service = service
        self.serviceExecution = serviceExecution
        self.limits = limits
        self.logger = logger
        self.lifecycle = lifecycle
        self.isTLS = isTLS
        if let remoteAddress, let ip = remoteAddress.ipAddress, let port = remoteAddress.port {
            self.remoteAddress = remoteAddress.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
        } else {
            self.remoteAddress = nil
        }
    }

    /// The executor for service tasks of a connection on `eventLoop` (nil: the global one).
    func serviceExecutor(on eventLoop: any EventLoop) -> (any TaskExecutor)? {
        serviceExecution == .connectionEventLoop ? EventLoopTaskExecutor(eventLoop) : nil
    }
}
