import Logging
import NIOCore
import NIOHTTP1

/// HTTP/1.1 after NIO's request decoder, response encoder and pipelining handler: gathers each request
/// (limits: 413, 431; 400 for what the decoder cannot parse; 503 while draining), answers
/// `Expect: 100-continue`, runs the service for it, writes its response (`content-length` when the
/// head has one, chunked otherwise) and keeps the connection alive when both sides allow. The
/// pipelining handler holds back the next request until the response has ended. An `Upgrade: h2c`
/// request switches the connection to HTTP/2 and is served as its stream 1 (``H2CUpgrade``); other
/// upgrade requests are served as HTTP/1.1, then the connection closes.
final class HTTP1Handler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private struct ActiveRequest {
        var id: UInt64
        var version: HTTPVersion
        var keepAlive: Bool
        var writer: StreamResponseWriter
        var task: Task<Void, Never>?
    }

    private enum State {
        case idle
        case receiving(HTTPRequestHead, RequestBody)
        case responding(ActiveRequest)
        /// Answered or failing: nothing more is read; the connection closes once the last write is out.
        case closing
    }

    let connection: ConnectionContext
    private var state = State.idle
    private var nextRequestID: UInt64 = 0
    private var date = HTTPDate()
    private var context: ChannelHandlerContext?
    private var serviceExecutor: (any TaskExecutor)?

    init(connection: ConnectionContext) {
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        serviceExecutor = connection.serviceExecutor(on: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            receive(head, context: context)
        case (.body(let chunk), .receiving(let head, var body)):
            state = .closing  // while `body` is out of the enum, so appending does not copy
            if case .tooLarge(let message) = body.append(chunk) {
                reject(413, message, context: context)
            } else {
                state = .receiving(head, body)
            }
        case (.end, .receiving(let head, let body)):
            requestComplete(head, body: body.bytes, context: context)
        case (_, .closing):
            return
        case (let part, _):
            // The decoder and the pipelining handler deliver parts in order, one request at a time.
            connection.logger.error("HTTP/1.1: unexpected \(part) in state \(state); closing")
            close(context: context)
        }
    }

    private func receive(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        if connection.lifecycle.isDraining {
            return reject(503, "the server is shutting down; retry on a new connection", context: context)
        }
        let body = RequestBody(limit: connection.limits.maxBodyBytes)
        if case .tooLarge(let message) = body.announce(contentLength: head.headers.first(name: "content-length")) {
            return reject(413, message, context: context)
        }
        if head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
            context.writeAndFlush(wrapOutboundOut(.head(NIOHTTP1.HTTPResponseHead(version: head.version, status: .continue))),
                                  promise: nil)
        }
        state = .receiving(head, body)
    }

    private func requestComplete(_ head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        let request = HTTPServerRequest(
            method: head.method.rawValue, target: head.uri,
            headers: head.headers.map { (name: $0.name.lowercased(), value: $0.value) }, body: body,
            protocolVersion: .http1_1, isTLS: connection.isTLS, remoteAddress: connection.remoteAddress)
        if let upgrade = H2CUpgrade(head: head, isTLS: connection.isTLS) {
            state = .closing
            return switchToHTTP2(upgrade, request: request, context: context)
        }
        nextRequestID += 1
        let sink = LoopResponseSink(target: NIOLoopBound(self, eventLoop: context.eventLoop), requestID: nextRequestID)
        let writer = StreamResponseWriter(sink: sink, requestMethod: request.method, service: connection.service)
        // After an `Upgrade` request the decoder stops parsing (llhttp), so one not taken closes.
        let keepAlive = head.isKeepAlive && !Self.stopsParser(head)
        // The task's writes hop to this event loop, so they run after this function returns.
        let task = writer.serve(request, with: connection.service, on: serviceExecutor)
        state = .responding(ActiveRequest(id: nextRequestID, version: head.version, keepAlive: keepAlive, writer: writer,
                                          task: task))
    }

    /// A response the front end makes itself; the connection closes after it.
    private func reject(_ status: Int, _ message: String, context: ChannelHandlerContext) {
        state = .closing
        let error = connection.service.frontEndError(status: status, message: message)
        var head = responseHead(error.head, version: .http1_1, keepAlive: false)
        head.headers.replaceOrAdd(name: "connection", value: "close")
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(error.body))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    private func close(context: ChannelHandlerContext) {
        state = .closing
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch (error, state) {
        case (_, .closing):
            return
        case (let parserError as HTTPParserError, .idle), (let parserError as HTTPParserError, .receiving):
            if parserError == .headerOverflow {
                reject(431, "the request's header fields exceed \(connection.limits.maxHeaderListBytes) bytes", context: context)
            } else {
                reject(400, "malformed HTTP/1.1 request: \(parserError)", context: context)
            }
        default:
            connection.logger.debug("HTTP/1.1 connection error: \(error)", metadata: ["peer": "\(connection.remoteAddress ?? "?")"])
            close(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .responding(let active) = state {
            active.writer.clientGone()
            active.task?.cancel()
        }
        state = .closing
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ConnectionIdleEvent {
            switch state {
            case .idle, .receiving: close(context: context)  // nothing asked yet, or an upload that stalled
            case .responding, .closing: break
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

// MARK: - Writing the response (on the event loop, through LoopResponseSink)

extension HTTP1Handler: ResponseTarget {
    private func activeRequest(_ id: UInt64) -> ActiveRequest? {
        guard case .responding(let active) = state, active.id == id else { return nil }
        return active
    }

    private func responseHead(_ head: HTTPResponseHead, version: HTTPVersion, keepAlive: Bool) -> NIOHTTP1.HTTPResponseHead {
        var headers = HTTPHeaders(head.headers.map { ($0.name, $0.value) })
        if !headers.contains(name: "date") { headers.add(name: "date", value: date.now()) }
        if !headers.contains(name: "server") { headers.add(name: "server", value: "specula") }
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if version == .http1_0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        return NIOHTTP1.HTTPResponseHead(version: version, status: .init(statusCode: head.status), headers: headers)
    }

    func sendHead(_ head: HTTPResponseHead, requestID: UInt64) -> EventLoopFuture<Void>? {
        guard let context, var active = activeRequest(requestID) else { return nil }
        // HTTP/1.0 has no chunked encoding: a body of unknown length ends with the connection.
        if active.version == .http1_0 && !head.headers.contains(where: { $0.name == "content-length" }) {
            active.keepAlive = false
            state = .responding(active)
        }
        return context.writeAndFlush(wrapOutboundOut(.head(responseHead(head, version: active.version, keepAlive: active.keepAlive))))
    }

    func sendBody(_ chunk: ByteBuffer, requestID: UInt64) -> EventLoopFuture<Void>? {
        guard let context, activeRequest(requestID) != nil else { return nil }
        guard chunk.readableBytes > 0 else { return context.eventLoop.makeSucceededVoidFuture() }
        return context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(chunk))))
    }

    func sendEnd(requestID: UInt64) -> EventLoopFuture<Void>? {
        guard let context, let active = activeRequest(requestID) else { return nil }
        // Idle before writing `.end`: the pipelining handler hands us the next request from inside that write.
        state = active.keepAlive ? .idle : .closing
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !active.keepAlive {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
        return written
    }

    func sendWhole(_ head: HTTPResponseHead, body: ByteBuffer, requestID: UInt64) -> EventLoopFuture<Void>? {
        guard let context, let active = activeRequest(requestID) else { return nil }
        context.write(wrapOutboundOut(.head(responseHead(head, version: active.version, keepAlive: active.keepAlive))),
                      promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        return sendEnd(requestID: requestID)
    }

    func abort(requestID: UInt64) {
        guard let context, activeRequest(requestID) != nil else { return }
        close(context: context)
    }
}

extension HTTP1Handler {
    /// Whether NIO's decoder (llhttp) stops parsing after this request: `Connection: upgrade` with an
    /// `Upgrade` field, or `CONNECT`.
    static func stopsParser(_ head: HTTPRequestHead) -> Bool {
        head.method == .CONNECT
            || (head.headers.contains(name: "upgrade")
                && head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" })
    }
}

@available(*, unavailable) extension HTTP1Handler: Sendable {}
