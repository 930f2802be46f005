import CNGHTTP2
import Logging
import NIOCore

// Requests: what nghttp2 reports while it parses the client's frames.
extension HTTP2ServerHandler: NGHTTP2SessionDelegate {
    func streamOpened(_ id: Int32) {
        streams[id] = HTTP2StreamState(limits: connection.limits)
    }

    func headerReceived(_ id: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        streams[id]?.head.add(name: name, value: value)
    }

    func requestHeadersComplete(_ id: Int32, endStream: Bool) {
        guard let stream = streams[id], stream.phase == .receiving else { return }
        stream.requestEnded = endStream
        if connection.lifecycle.isDraining {
            return reject(id, stream, 503, "the server is shutting down; retry on a new connection")
        }
        if stream.head.isTooLarge {
            return reject(id, stream, 431,
                          "the request's header fields exceed \(connection.limits.maxHeaderListBytes) bytes")
        }
        if case .tooLarge(let message) = stream.body.announce(contentLength: stream.head.contentLength) {
            return reject(id, stream, 413, message)
        }
        if endStream { requestEnded(id) }
    }

    func dataReceived(_ id: Int32, _ bytes: UnsafeRawBufferPointer) {
        guard let stream = streams[id], stream.phase == .receiving else { return }
        if case .tooLarge(let message) = stream.body.append(bytes) {
            reject(id, stream, 413, message)
        }
    }

    func requestEnded(_ id: Int32) {
        streams[id]?.requestEnded = true
        guard let stream = streams[id], stream.phase == .receiving else { return }
        guard let request = stream.head.request(body: stream.body.bytes, isTLS: connection.isTLS,
                                                remoteAddress: connection.remoteAddress) else {
            return reject(id, stream, 400, "the request has no :method or :path")
        }
        serve(id, stream, request)
    }

    func serve(_ id: Int32, _ stream: HTTP2StreamState, _ request: HTTPServerRequest) {
        guard let context else { return }
        stream.phase = .serving
        let sink = LoopResponseSink(target: NIOLoopBound(self, eventLoop: context.eventLoop), requestID: id)
        let writer = StreamResponseWriter(sink: sink, requestMethod: request.method, service: connection.service)
        stream.writer = writer
        // The task's writes hop to this event loop, so they find the stream set up.
        stream.task = writer.serve(request, with: connection.service, on: serviceExecutor)
    }

    func resetReceived(_ id: Int32) {
        guard let context else { return }
        if !resetLimiter.allowReset(at: context.eventLoop.now) {
            connection.logger.info("HTTP/2 client resets streams faster than allowed; GOAWAY(ENHANCE_YOUR_CALM)", metadata: peer)
            session?.terminate(errorCode: NGHTTP2_ENHANCE_YOUR_CALM.rawValue)
        }
    }

    func responseEndSent(_ id: Int32) {
        // An answer before the whole request (413 mid-upload): RFC 9113 §8.1 lets the server ask the
        // client to stop sending with RST_STREAM(NO_ERROR) once its response is complete.
        if let stream = streams[id], stream.phase == .rejected, !stream.requestEnded {
            session?.resetStream(id, errorCode: NGHTTP2_NO_ERROR.rawValue)
        }
    }

    func streamClosed(_ id: Int32, errorCode: UInt32) {
        guard let stream = streams.removeValue(forKey: id) else { return }
        if !stream.responseComplete {
            failed += stream.abandon()
        }
    }

    func responseBody(_ id: Int32, into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.BodyChunk {
        guard let stream = streams[id] else { return .bytes(0, endOfStream: true) }
        let (count, end, done) = stream.take(into: buffer)
        succeeded += done
        if count == 0 && !end {
            stream.deferred = true
            return .deferred
        }
        return .bytes(count, endOfStream: end)
    }

    /// The front end answers the request itself; nghttp2 drops what else the client sends on it.
    private func reject(_ id: Int32, _ stream: HTTP2StreamState, _ status: Int, _ message: String) {
        stream.phase = .rejected
        let error = connection.service.frontEndError(status: status, message: message)
        stream.pending.append((error.body, nil))
        stream.ended = true
        submit(id, error.head, hasBody: true)
    }
}

// Responses: the service's writer calls, on the event loop (through LoopResponseSink).
extension HTTP2ServerHandler: ResponseTarget {
    private func servingStream(_ id: Int32) -> HTTP2StreamState? {
        guard context != nil, let stream = streams[id], stream.phase == .serving else { return nil }
        return stream
    }

    func sendHead(_ head: HTTPResponseHead, requestID id: Int32) -> EventLoopFuture<Void>? {
        guard let context, servingStream(id) != nil else { return nil }
        submit(id, head, hasBody: true)
        scheduleFlush()
        return context.eventLoop.makeSucceededVoidFuture()
    }

    func sendBody(_ chunk: ByteBuffer, requestID id: Int32) -> EventLoopFuture<Void>? {
        guard let context, let stream = servingStream(id) else { return nil }
        let promise = context.eventLoop.makePromise(of: Void.self)
        stream.pending.append((chunk, promise))
        resume(id, stream)
        return promise.futureResult
    }

    func sendEnd(requestID id: Int32) -> EventLoopFuture<Void>? {
        guard let context, let stream = servingStream(id) else { return nil }
        let promise = context.eventLoop.makePromise(of: Void.self)
        stream.ended = true
        stream.endPromise = promise
        resume(id, stream)
        return promise.futureResult
    }

    func sendWhole(_ head: HTTPResponseHead, body: ByteBuffer, requestID id: Int32) -> EventLoopFuture<Void>? {
        guard let context, let stream = servingStream(id) else { return nil }
        let promise = context.eventLoop.makePromise(of: Void.self)
        if body.readableBytes > 0 {
            stream.pending.append((body, nil))
            stream.ended = true
            stream.endPromise = promise
            submit(id, head, hasBody: true)
        } else {
            stream.responseComplete = true
            submit(id, head, hasBody: false)
            succeeded.append(promise)
        }
        scheduleFlush()
        return promise.futureResult
    }

    func abort(requestID id: Int32) {
        guard servingStream(id) != nil else { return }
        session?.resetStream(id, errorCode: NGHTTP2_INTERNAL_ERROR.rawValue)
        scheduleFlush()
    }

    private func resume(_ id: Int32, _ stream: HTTP2StreamState) {
        if stream.deferred {
            stream.deferred = false
            session?.resumeData(id)
        }
        scheduleFlush()
    }

    /// Queues the HEADERS of a response, with what HTTP/2 needs: `:status` first, `date`, `server`,
    /// and none of HTTP/1.1's connection-specific fields.
    private func submit(_ id: Int32, _ head: HTTPResponseHead, hasBody: Bool) {
        var headers: [(name: String, value: String)] = [(":status", String(head.status))]
        headers += head.headers.filter { !Self.connectionSpecific.contains($0.name) }
        if !head.headers.contains(where: { $0.name == "date" }) { headers.append(("date", date.now())) }
        if !head.headers.contains(where: { $0.name == "server" }) { headers.append(("server", "specula")) }
        do {
            try session?.submitResponse(id, headers: headers, hasBody: hasBody)
        } catch {
            connection.logger.debug("HTTP/2 response on stream \(id) refused: \(error)", metadata: peer)
            session?.resetStream(id, errorCode: NGHTTP2_INTERNAL_ERROR.rawValue)
        }
    }

    private static let connectionSpecific: Set<String> = ["connection", "keep-alive", "proxy-connection",
                                                          "transfer-encoding", "upgrade"]
}
