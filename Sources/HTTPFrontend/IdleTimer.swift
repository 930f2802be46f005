import NIOCore

/// Sent up the pipeline when a connection saw no bytes either way for ``HTTPLimits/idleTimeout``; the
/// protocol handler closes the connection if no request is in progress.
struct ConnectionIdleEvent: Sendable {}

/// The idle timer at the front of every connection. Unlike NIO's `IdleStateHandler` it reads the
/// event loop's clock (`eventLoop.now`), so tests can move time on a testing event loop.
final class IdleTimer: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny

    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.uptimeNanoseconds(0)
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = context.eventLoop.now
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = context.eventLoop.now
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard timer == nil else { return }
        lastActivity = context.eventLoop.now
        arm(context, at: lastActivity + timeout)
    }

    private func arm(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (timer, context) = loopBound.value
            timer.fire(context)
        }
    }

    private func fire(_ context: ChannelHandlerContext) {
        let due = lastActivity + timeout
        if context.eventLoop.now >= due {
            arm(context, at: context.eventLoop.now + timeout)
            context.fireUserInboundEventTriggered(ConnectionIdleEvent())
        } else {
            arm(context, at: due)
        }
    }
}

@available(*, unavailable) extension IdleTimer: Sendable {}
