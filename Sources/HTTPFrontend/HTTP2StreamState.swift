import NIOCore

/// The request side of an HTTP/2 stream: pseudo-headers and fields as they arrive, their size held to
/// ``HTTPLimits/maxHeaderListBytes`` counted the RFC 9113 way (name + value + 32 per field).
struct HTTP2RequestHead {
    var method: String?
    var path: String?
    var authority: String?
    private(set) var fields: [(name: String, value: String)] = []
    private(set) var listBytes = 0
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    var isTooLarge: Bool { listBytes > limit }

    /// Adds a field; once past the limit fields are only counted (the request will get 431).
    mutating func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        listBytes += name.count + value.count + 32
        guard !isTooLarge else {
            fields = []
            return
        }
        let name = String(decoding: name, as: UTF8.self)
        let value = String(decoding: value, as: UTF8.self)
        switch name {
        case ":method": method = value
        case ":path": path = value
        case ":authority": authority = value
        case _ where name.hasPrefix(":"): break  // :scheme, :protocol
        default: fields.append((name, value))
        }
    }

    var contentLength: String? { fields.first { $0.name == "content-length" }?.value }

    /// The request for the service; `host` comes from `:authority` when the client sent no `host`.
    /// Nil without `:method` or `:path` (nghttp2 resets such streams before they get here).
    func request(body: ByteBuffer, isTLS: Bool, remoteAddress: String?) -> HTTPServerRequest? {
        guard let method, let path else { return nil }
        var headers = fields
        if let authority, !headers.contains(where: { $0.name == "host" }) {
            headers.insert((name: "host", value: authority), at: 0)
        }
        return HTTPServerRequest(method: method, target: path, headers: headers, body: body, protocolVersion: .http2,
                                 isTLS: isTLS, remoteAddress: remoteAddress)
    }
}

/// One HTTP/2 stream of ``HTTP2ServerHandler``: the request being received, then the service's task
/// and the response body waiting for nghttp2 to take it (`NGHTTP2_ERR_DEFERRED` while empty).
final class HTTP2StreamState {
    enum Phase {
        /// Headers or body still arriving.
        case receiving
        /// The service has the request.
        case serving
        /// The front end answered itself (413, 431, 503, 400); the rest of the request is dropped.
        case rejected
    }

    var phase = Phase.receiving
    /// The client ended its side (END_STREAM on its HEADERS, DATA or trailers).
    var requestEnded = false
    var head: HTTP2RequestHead
    var body: RequestBody
    var writer: StreamResponseWriter?
    var task: Task<Void, Never>?

    /// Response body chunks not yet taken by nghttp2, each with the promise of its writer call.
    var pending = CircularBuffer<(chunk: ByteBuffer, promise: EventLoopPromise<Void>?)>()
    /// The service ended the response; `endPromise` completes when nghttp2 sends END_STREAM.
    var ended = false
    var endPromise: EventLoopPromise<Void>?
    /// nghttp2 waits for ``NGHTTP2Session/resumeData(_:)``.
    var deferred = false
    /// The response is entirely with nghttp2 (END_STREAM queued).
    var responseComplete = false

    init(limits: HTTPLimits) {
        head = HTTP2RequestHead(limit: limits.maxHeaderListBytes)
        body = RequestBody(limit: limits.maxBodyBytes)
    }

    /// Copies pending body bytes into `buffer`. Returns how many, whether that ends the response, and
    /// the promises of the chunks now fully taken.
    func take(into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, end: Bool, done: [EventLoopPromise<Void>]) {
        var count = 0
        var done: [EventLoopPromise<Void>] = []
        while count < buffer.count, !pending.isEmpty {
            let index = pending.startIndex
            let n = min(pending[index].chunk.readableBytes, buffer.count - count)
            pending[index].chunk.withUnsafeReadableBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: buffer[count..<(count + n)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<n]))
            }
            pending[index].chunk.moveReaderIndex(forwardBy: n)
            count += n
            if pending[index].chunk.readableBytes == 0 {
                if let promise = pending.removeFirst().promise { done.append(promise) }
            }
        }
        let end = ended && pending.isEmpty
        if end {
            responseComplete = true
            if let endPromise { done.append(endPromise) }
            endPromise = nil
        }
        return (count, end, done)
    }

    /// The client left: every waiting writer call fails, the service's task is cancelled.
    func abandon() -> [EventLoopPromise<Void>] {
        writer?.clientGone()
        task?.cancel()
        var promises = pending.compactMap(\.promise)
        if let endPromise { promises.append(endPromise) }
        pending.removeAll()
        endPromise = nil
        return promises
    }
}
