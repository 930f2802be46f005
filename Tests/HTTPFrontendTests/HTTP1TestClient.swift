import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import HTTPFrontend

/// One HTTP/1.1 response as NIO's client decoder parsed it.
struct TestResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: String
    /// 1xx heads that came before the final one.
    var informational: [Int] = []

    func header(_ name: String) -> String? { headers.first(name: name) }
}

/// A server connection (the front end's HTTP/1.1 handlers in a `NIOAsyncTestingChannel`) and a
/// client speaking to it through NIO's HTTP/1.1 client codec in an `EmbeddedChannel`.
final class HTTP1TestClient {
    let server: NIOAsyncTestingChannel
    private let client = NIOAsyncTestingChannel()
    private var parts: [HTTPClientResponsePart] = []

    /// `fullSetup` uses the whole connection setup (idle timer included) instead of the HTTP/1.1
    /// handlers alone.
    init(service: TestService, limits: HTTPLimits = .default, lifecycle: ServerLifecycle = ServerLifecycle(),
         fullSetup: Bool = false) async throws {
        server = NIOAsyncTestingChannel()
        let connection = ConnectionContext(service: service, limits: limits, logger: Logger(label: "test"),
                                           lifecycle: lifecycle, isTLS: false, remoteAddress: nil)
        let server = server
        try await server.testingEventLoop.executeInContext {
            if fullSetup {
                try ConnectionSetup.configure(server, tls: nil, connection: connection)
            } else {
                try ConnectionSetup.configureHTTP1(server.pipeline.syncOperations, connection: connection)
            }
        }
        try await server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080))
        let client = client
        try await client.testingEventLoop.executeInContext {
            try client.pipeline.syncOperations.addHandlers([
                HTTPRequestEncoder(),
                ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes,
                                                         informationalResponseStrategy: .forward)),
            ])
        }
        try await client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080))
    }

    /// Sends raw bytes as they are. `requests` tells the client's decoder how many responses to expect
    /// (it refuses responses to requests it did not see).
    func sendRaw(_ text: String, requests: Int = 1) async throws {
        for _ in 0..<requests {
            try await client.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
            try await client.writeOutbound(HTTPClientRequestPart.end(nil))
        }
        while try await client.readOutbound(as: ByteBuffer.self) != nil {}
        try await server.writeInbound(ByteBuffer(string: text))
    }

    /// Sends a request through NIO's encoder (so the decoder knows which responses have no body).
    func send(_ method: HTTPMethod, _ uri: String, headers: [(String, String)] = [], body: String? = nil,
              end: Bool = true) async throws {
        var fields = HTTPHeaders(headers)
        if !fields.contains(name: "host") { fields.add(name: "host", value: "test") }
        if let body, !fields.contains(name: "content-length"), !fields.contains(name: "transfer-encoding") {
            fields.add(name: "content-length", value: String(body.utf8.count))
        }
        try await client.writeOutbound(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: fields)))
        if let body { try await client.writeOutbound(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body)))) }
        if end { try await client.writeOutbound(HTTPClientRequestPart.end(nil)) }
        try await forwardClientBytes()
    }

    func sendBody(_ body: String, end: Bool = true) async throws {
        try await client.writeOutbound(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))))
        if end { try await client.writeOutbound(HTTPClientRequestPart.end(nil)) }
        try await forwardClientBytes()
    }

    private func forwardClientBytes() async throws {
        while let bytes = try await client.readOutbound(as: ByteBuffer.self) {
            try await server.writeInbound(bytes)
        }
    }

    /// The next response part, waiting for the server to write.
    func nextPart() async throws -> HTTPClientResponsePart {
        while parts.isEmpty {
            do {
                let bytes = try await server.waitForOutboundWrite(as: ByteBuffer.self)
                try await client.writeInbound(bytes)
            } catch ChannelError.ioOnClosedChannel where client.isActive {
                // The server closed: the client sees EOF (which ends a body delimited by the close).
                try await client.close()
            }
            while let part = try await client.readInbound(as: HTTPClientResponsePart.self) { parts.append(part) }
            if parts.isEmpty && !client.isActive { throw ChannelError.ioOnClosedChannel }
        }
        return parts.removeFirst()
    }

    /// The next whole response.
    func nextResponse() async throws -> TestResponse {
        var informational: [Int] = []
        while true {
            guard case .head(let head) = try await nextPart() else { throw TestFailure("a response did not start with its head") }
            if (100..<200).contains(head.status.code) {
                informational.append(Int(head.status.code))
                continue
            }
            var body = ByteBuffer()
            while true {
                switch try await nextPart() {
                case .body(var chunk): body.writeBuffer(&chunk)
                case .end: return TestResponse(status: Int(head.status.code), headers: head.headers,
                                               body: String(buffer: body), informational: informational)
                case .head: throw TestFailure("a second head inside a response")
                }
            }
        }
    }

    /// Waits until the server closed the connection.
    func waitForClose() async throws {
        try await server.closeFuture.get()
    }

    var isOpen: Bool { server.isActive }
}
