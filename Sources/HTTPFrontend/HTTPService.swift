public import NIOCore

// The contract between the HTTP front end (HTTP/2 through libnghttp2, HTTP/1.1 through NIOHTTP1,
// either over TLS) and whatever serves requests (the router's API). The front end owns sockets,
// protocols and limits; a service sees one whole request and writes one (possibly streamed) response,
// the same way whatever protocol carried it.

/// One request, its body complete (bodies are small JSON documents; the front end enforces
/// ``HTTPLimits/maxBodyBytes`` with a 413 before the service sees anything).
public struct HTTPServerRequest: Sendable {
    public enum ProtocolVersion: Sendable, Equatable {
        case http1_1
        case http2
    }

    /// `GET`, `POST`, ... as sent.
    public var method: String
    /// The request target: path and query (`/v1/completions?x=1`).
    public var target: String
    /// Header fields in arrival order; names lowercased (HTTP/2 style), pseudo-headers removed.
    public var headers: [(name: String, value: String)]
    public var body: ByteBuffer
    public var protocolVersion: ProtocolVersion
    public var isTLS: Bool
    /// `ip:port` of the client, when known (for logs).
    public var remoteAddress: String?

    public init(method: String, target: String, headers: [(name: String, value: String)], body: ByteBuffer,
                protocolVersion: ProtocolVersion, isTLS: Bool = false, remoteAddress: String? = nil) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.protocolVersion = protocolVersion
        self.isTLS = isTLS
        self.remoteAddress = remoteAddress
    }

    /// The path without its query.
    public var path: Substring { target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0] }

    /// The first value of a header (name compared case-insensitively).
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }
}

/// The head of a response. The front end adds what the protocol needs (`content-length` for a
/// non-streamed body, chunked encoding or DATA frames for a streamed one, `date`, `server`).
public struct HTTPResponseHead: Sendable {
    public var status: Int
    /// Names in lowercase.
    public var headers: [(name: String, value: String)]

    public init(status: Int, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.headers = headers
    }
}

/// Where a service writes its response. Calls are made in order: ``writeHead(_:)`` once, then any
/// number of ``writeBody(_:)``, then ``end()``. Each call returns once the bytes are handed to the
/// connection (and waits while the peer's flow-control window or the socket is full, so a slow client
/// slows its own stream only). A call throws ``HTTPFrontendError/clientGone`` once the client reset the
/// stream or closed the connection; by then the service's task has been cancelled too.
public protocol HTTPResponseWriter: Sendable {
    func writeHead(_ head: HTTPResponseHead) async throws
    func writeBody(_ chunk: ByteBuffer) async throws
    func end() async throws
    /// A whole response in one go, instead of the three calls above: the front end adds
    /// `content-length` (unless the headers carry one) and sends it all with one hop to the connection.
    func respond(status: Int, headers: [(name: String, value: String)], body: ByteBuffer) async throws
}

extension HTTPResponseWriter {
    /// A whole response in one go, for writers without a faster way.
    public func respond(status: Int, headers: [(name: String, value: String)], body: ByteBuffer) async throws {
        var headers = headers
        if !headers.contains(where: { $0.name == "content-length" }) {
            headers.append((name: "content-length", value: String(body.readableBytes)))
        }
        try await writeHead(HTTPResponseHead(status: status, headers: headers))
        if body.readableBytes > 0 { try await writeBody(body) }
        try await end()
    }
}

/// What serves requests. The front end runs ``handle(_:response:)`` in its own task per request and
/// cancels that task when the client goes away (RST_STREAM, connection closed, GOAWAY past the
/// stream), so a service can stop work it no longer needs (`withTaskCancellationHandler`). If the
/// service returns without ending the response, the front end ends it (500 when no head was written).
public protocol HTTPService: Sendable {
    func handle(_ request: HTTPServerRequest, response: any HTTPResponseWriter) async

    /// The body of an error the front end produces itself (400 malformed, 413 body too large,
    /// 431 headers too large, 503 shutting down): lets the API keep one error shape everywhere.
    func errorResponse(status: Int, message: String) -> (contentType: String, body: ByteBuffer)
}

public enum HTTPFrontendError: Error, Sendable, Equatable {
    /// The client reset the stream or closed the connection.
    case clientGone
    /// ``HTTPResponseWriter`` calls out of order, or a head or body the protocol cannot carry (a bug
    /// in the service).
    case invalidState(String)
    /// ``HTTPServer/start(host:port:tls:limits:service:group:logger:)`` refused its arguments: bad
    /// limits, unreadable certificate or key files.
    case invalidConfiguration(String)
}
