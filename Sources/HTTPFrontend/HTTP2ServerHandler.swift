import CNGHTTP2
import Logging
import NIOCore

/// HTTP/2 on one connection, through libnghttp2: bytes read go to `nghttp2_session_mem_recv`, and
/// whatever the session has to send goes out through `nghttp2_session_mem_send` while the channel is
/// writable (nothing is pulled from nghttp2 while it is not, so response bodies wait in their
/// streams and their writers wait with them). Each complete request runs the service in its own task;
/// a stream the client resets, or a closed connection, cancels that task. Frames nghttp2 finds
/// malformed cost the client a GOAWAY and the connection, never the process.
final class HTTP2ServerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// An HTTP/1.1 request that carried `Upgrade: h2c`, continued as stream 1.
    struct Upgrade {
        var request: HTTPServerRequest
        var settingsPayload: [UInt8]
    }

    let connection: ConnectionContext
    var session: NGHTTP2Session?
    var streams: [Int32: HTTP2StreamState] = [:]
    var resetLimiter: ResetRateLimiter
    var context: ChannelHandlerContext?
    var date = HTTPDate()
    var serviceExecutor: (any TaskExecutor)?
    private var upgrade: Upgrade?
    private var flushing = false
    private var flushAgain = false
    private var flushScheduled = false
    /// Writer calls whose bytes nghttp2 took (succeed) or whose stream went away (fail), completed
    /// after the current nghttp2 call returns.
    var succeeded: [EventLoopPromise<Void>] = []
    var failed: [EventLoopPromise<Void>] = []

    init(connection: ConnectionContext, upgrade: Upgrade? = nil) {
        self.connection = connection
        self.upgrade = upgrade
        resetLimiter = ResetRateLimiter(burst: connection.limits.resetBurst, perSecond: connection.limits.resetsPerSecond)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        serviceExecutor = connection.serviceExecutor(on: context.eventLoop)
        do {
            let session = try NGHTTP2Session(delegate: self, limits: connection.limits)
            self.session = session
            if let upgrade {
                self.upgrade = nil
                try session.upgrade(settingsPayload: upgrade.settingsPayload, headRequest: upgrade.request.method == "HEAD")
                let stream = HTTP2StreamState(limits: connection.limits)
                streams[1] = stream
                serve(1, stream, upgrade.request)
            }
        } catch {
            connection.logger.debug("HTTP/2 session failed to start: \(error)", metadata: peer)
            context.close(promise: nil)
            return
        }
        flushOutput()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandonAllStreams()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session else { return }
        do {
            try session.receive(unwrapInboundIn(data))
        } catch {
            connection.logger.debug("HTTP/2 connection ends: \(error)", metadata: peer)
            flushOutput()
            context.close(promise: nil)
            return
        }
        flushOutput()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flushOutput() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandonAllStreams()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            // Streams the client started so far finish; the connection closes when they have.
            session?.submitGoAway()
            flushOutput()
        case is ConnectionIdleEvent:
            // Streams only receiving (a stalled upload) do not keep a silent connection.
            if !streams.values.contains(where: { $0.phase == .serving }) {
                session?.terminate(errorCode: NGHTTP2_NO_ERROR.rawValue)
                flushOutput()
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection.logger.debug("HTTP/2 connection error: \(error)", metadata: peer)
        context.close(promise: nil)
    }

    /// Moves what nghttp2 has to send into the channel while the channel is writable, then completes
    /// the writer calls it settled, and closes the connection once the session is over.
    func flushOutput() {
        guard let context, let session else { return }
        guard !flushing else {
            flushAgain = true
            return
        }
        flushing = true
        var failure: NGHTTP2Error?
        repeat {
            flushAgain = false
            var wrote = false
            var buffer = context.channel.allocator.buffer(capacity: 16 * 1024)
            while context.channel.isWritable {
                let output: UnsafeRawBufferPointer
                do {
                    output = try session.nextOutput()
                } catch {
                    failure = error
                    break
                }
                if output.isEmpty { break }
                buffer.writeBytes(output)
                if buffer.readableBytes >= 64 * 1024 {
                    context.write(wrapOutboundOut(buffer), promise: nil)
                    wrote = true
                    buffer = context.channel.allocator.buffer(capacity: 16 * 1024)
                }
            }
            if buffer.readableBytes > 0 {
                context.write(wrapOutboundOut(buffer), promise: nil)
                wrote = true
            }
            if wrote { context.flush() }
        } while flushAgain && failure == nil
        flushing = false
        completeWriterCalls()
        if let failure {
            connection.logger.debug("HTTP/2 connection ends: \(failure)", metadata: peer)
            context.close(promise: nil)
        } else if !session.isActive {
            context.close(promise: nil)
        }
    }

    /// A flush at the end of the event loop's current batch of tasks: writer calls from many
    /// streams' tasks that arrive together leave in one socket write.
    func scheduleFlush() {
        guard let context, !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            flushOutput()
        }
    }

    func completeWriterCalls() {
        let (done, gone) = (succeeded, failed)
        (succeeded, failed) = ([], [])
        for promise in done { promise.succeed() }
        for promise in gone { promise.fail(HTTPFrontendError.clientGone) }
    }

    private func abandonAllStreams() {
        for stream in streams.values { failed += stream.abandon() }
        streams = [:]
        completeWriterCalls()
    }

    var peer: Logger.Metadata { ["peer": "\(connection.remoteAddress ?? "?")"] }
}

@available(*, unavailable) extension HTTP2ServerHandler: Sendable {}
