import NIOCore
import Wire

/// The last handler of a router connection's pipeline (after the frame codecs and
/// `WireSessionHandler`): hands every event to the service, tagged with the link and attempt.
final class LinkHandler: ChannelInboundHandler {
    typealias InboundIn = WireMessage

    private let service: WorkerService
    private let link: Int
    private let generation: Int

    init(service: WorkerService, link: Int, generation: Int) {
        self.service = service
        self.link = link
        self.generation = generation
    }

    func channelActive(context: ChannelHandlerContext) {
        service.linkActive(link, generation: generation, channel: context.channel)
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case WireSessionEvent.authenticated(_, let version)? = event as? WireSessionEvent {
            service.linkAuthenticated(link, generation: generation, version: version)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        service.linkReceived(link, generation: generation, message: unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        service.linkError(link, generation: generation, error: error)
        // WireSessionHandler closes after telling the peer about wire errors; anything else
        // (a reset socket) ends the connection here.
        if !(error is WireError) { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        service.linkClosed(link, generation: generation)
        context.fireChannelInactive()
    }
}

@available(*, unavailable) extension LinkHandler: Sendable {}
