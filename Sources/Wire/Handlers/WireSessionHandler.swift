public import NIOCore

/// Runs the handshake on a connection, then passes messages through: the handler the router and the
/// worker put after ``FrameDecoder``/``FrameEncoder``.
///
/// - Before authentication it accepts only handshake frames and lets no other frame out.
/// - After it, a frame in the wrong direction, or (router side) anything before `register` or a
///   second `register`, is `unexpectedFrame` and closes the connection.
/// - When authenticated it fires ``WireSessionEvent/authenticated(peerName:version:)``.
/// - It answers request heartbeats with a reply (and passes both kinds on, for liveness tracking).
/// - A connection-level `error` frame from the peer is passed on, then the connection closes.
/// - On a local `WireError` (a bad frame, a failed proof) it sends an `error` frame with the code and
///   message and closes this connection; other connections are untouched.
public final class WireSessionHandler: ChannelDuplexHandler {
    public typealias InboundIn = WireMessage
    public typealias InboundOut = WireMessage
    public typealias OutboundIn = WireMessage
    public typealias OutboundOut = WireMessage

    private enum Role {
        case router(RouterHandshake)
        case worker(WorkerHandshake)
    }

    private var role: Role
    private var authenticated = false
    private var closing = false
    /// Router side: `register` has arrived.
    private var registered = false

    /// The router side: sends `hello` when the connection becomes active.
    public init(router handshake: RouterHandshake) {
        role = .router(handshake)
    }

    /// The worker side: waits for the router's `hello`.
    public init(worker handshake: WorkerHandshake) {
        role = .worker(handshake)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendHello(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        sendHello(context: context)
        context.fireChannelActive()
    }

    private func sendHello(context: ChannelHandlerContext) {
        guard case .router(let handshake) = role, case .awaitingAuthenticate = handshake.state, !authenticated else { return }
        context.writeAndFlush(wrapOutboundOut(handshake.hello), promise: nil)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        guard !closing else { return }
        guard authenticated else {
            if case .error(let error) = message {
                // The peer refused us and closes; answering its error would only echo it.
                closing = true
                context.fireErrorCaught(WireError(error.code, "peer: \(error.message)"))
                context.close(promise: nil)
                return
            }
            do { try handshake(message, context: context) } catch { fail(error, context: context) }
            return
        }
        if let error = sessionError(for: message) {
            fail(error, context: context)
            return
        }
        if case .heartbeat(let beat) = message, !beat.isReply {
            context.writeAndFlush(wrapOutboundOut(.heartbeat(Heartbeat(sequence: beat.sequence, isReply: true))), promise: nil)
        }
        context.fireChannelRead(data)
        if case .error(let error) = message, error.requestID == nil {
            // A connection error: the peer closes after it, and so do we (never answering it).
            closing = true
            context.close(promise: nil)
        }
    }

    /// A session frame in the wrong direction, or `register` other than first and once, on the router.
    private func sessionError(for message: WireMessage) -> WireError? {
        switch role {
        case .router:
            guard message.type.isSentByWorker else {
                return WireError(.unexpectedFrame, "router received \(message.type), which only a router sends")
            }
            if message.type == .error { return nil }
            let isRegister = message.type == .register
            defer { registered = registered || isRegister }
            if isRegister == registered {
                return WireError(.unexpectedFrame, registered ? "worker sent register twice" : "worker sent \(message.type) before register")
            }
        case .worker:
            guard message.type.isSentByRouter else {
                return WireError(.unexpectedFrame, "worker received \(message.type), which only a worker sends")
            }
        }
        return nil
    }

    private func handshake(_ message: WireMessage, context: ChannelHandlerContext) throws(WireError) {
        switch role {
        case .router(var handshake):
            defer { role = .router(handshake) }
            let welcome = try handshake.receive(message)
            context.writeAndFlush(wrapOutboundOut(welcome), promise: nil)
            if case .authenticated(let name, let version) = handshake.state {
                authenticated = true
                context.fireUserInboundEventTriggered(WireSessionEvent.authenticated(peerName: name, version: version))
            }
        case .worker(var handshake):
            defer { role = .worker(handshake) }
            switch try handshake.receive(message) {
            case .send(let reply):
                context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
            case .authenticated(let version):
                authenticated = true
                context.fireUserInboundEventTriggered(WireSessionEvent.authenticated(peerName: "router", version: version))
            }
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let message = unwrapOutboundIn(data)
        guard authenticated || message.type.isHandshake else {
            promise?.fail(WireError(.unexpectedFrame, "cannot send \(message.type) before the handshake completes; wait for WireSessionEvent.authenticated"))
            return
        }
        context.write(data, promise: promise)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
    }

    /// Tells the peer why (for a `WireError`), then closes this connection.
    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        context.fireErrorCaught(error)
        guard !closing else { return }
        closing = true
        guard let wireError = error as? WireError else {
            context.close(promise: nil)
            return
        }
        let frame = WireMessage.error(ErrorMessage(wireError))
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in bound.value.close(promise: nil) }
    }
}

/// Events ``WireSessionHandler`` fires inbound.
public enum WireSessionEvent: Sendable, Equatable {
    /// The handshake succeeded: both sides proved the token. `peerName` is the worker's name on the
    /// router and `"router"` on the worker.
    case authenticated(peerName: String, version: UInt16)
}

@available(*, unavailable) extension WireSessionHandler: Sendable {}
