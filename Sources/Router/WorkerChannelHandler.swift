import NIOCore
import Wire

/// The last handler of a worker connection's pipeline (after the frame codecs and
/// `WireSessionHandler`): hands every event to the router service, which runs on the same loop.
final class WorkerChannelHandler: ChannelInboundHandler {
    typealias InboundIn = WireMessage

    private let service: RouterService
    private var id: WorkerID?

    init(service: RouterService) {
        self.service = service
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { id = service.connectionOpened(context.channel) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if id == nil { id = service.connectionOpened(context.channel) }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let id, case WireSessionEvent.authenticated(let name, _)? = event as? WireSessionEvent {
            service.authenticated(id, name: name)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let id else { return }
        service.received(unwrapInboundIn(data), from: id)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let id { service.connectionError(id, error) }
        // WireSessionHandler closes after telling the peer about wire errors; anything else
        // (a reset socket) ends the connection here.
        if !(error is WireError) { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let id { service.connectionClosed(id) }
        id = nil
        context.fireChannelInactive()
    }
}

@available(*, unavailable) extension WorkerChannelHandler: Sendable {}
