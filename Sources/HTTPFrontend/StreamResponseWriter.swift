import NIOCore
import Synchronization

/// The connection side of one response: each call hops to the connection's event loop, and its future
/// completes once the bytes are handed to the connection (so it stays pending while the socket or the
/// peer's flow-control window is full). Implemented per protocol.
protocol ResponseSink: Sendable {
    func sendHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>
    /// `chunk` is empty for bodies the response may not carry (`HEAD`, 204, 304): the call still waits
    /// for earlier bytes, so ordering holds.
    func sendBody(_ chunk: ByteBuffer) -> EventLoopFuture<Void>
    func sendEnd() -> EventLoopFuture<Void>
    /// Head, body and end at once. `body` is empty when the response may not carry one.
    func sendWhole(_ head: HTTPResponseHead, body: ByteBuffer) -> EventLoopFuture<Void>
    /// Breaks off a response that cannot end well, so the client does not take it as complete:
    /// HTTP/2 resets the stream, HTTP/1.1 closes the connection.
    func abort()
}

/// The ``HTTPResponseWriter`` handed to services, for both protocols: checks call order under a lock
/// (``ResponseState``), then lets the protocol's ``ResponseSink`` do the I/O.
final class StreamResponseWriter: HTTPResponseWriter {
    private let sink: any ResponseSink
    private let state: Mutex<ResponseState>
    private let service: any HTTPService

    init(sink: any ResponseSink, requestMethod: String, service: any HTTPService) {
        self.sink = sink
        self.service = service
        state = Mutex(ResponseState(requestMethod: requestMethod))
    }

    func writeHead(_ head: HTTPResponseHead) async throws {
        try state.withLock { state throws(HTTPFrontendError) in try state.head(head) }
        try await wait(sink.sendHead(head))
    }

    func writeBody(_ chunk: ByteBuffer) async throws {
        let send = try state.withLock { state throws(HTTPFrontendError) in try state.body(chunk.readableBytes) }
        guard send || chunk.readableBytes == 0 else { return }
        try await wait(sink.sendBody(chunk))
    }

    func end() async throws {
        try state.withLock { state throws(HTTPFrontendError) in try state.end() }
        try await wait(sink.sendEnd())
    }

    func respond(status: Int, headers: [(name: String, value: String)], body: ByteBuffer) async throws {
        var headers = headers
        if !headers.contains(where: { $0.name == "content-length" }) {
            headers.append((name: "content-length", value: String(body.readableBytes)))
        }
        let head = HTTPResponseHead(status: status, headers: headers)
        let send = try state.withLock { state throws(HTTPFrontendError) in
            try state.head(head)
            let send = try state.body(body.readableBytes)
            try state.end()
            return send
        }
        try await wait(sink.sendWhole(head, body: send ? body : ByteBuffer()))
    }

    /// Called by the connection when the client reset the stream or closed the connection.
    func clientGone() {
        state.withLock { $0.clientGone() }
    }

    /// Runs when the service's `handle` returned: ends a response it left open (a 500 when it never
    /// wrote a head), so no request is left without an answer.
    func finishAfterService() async {
        let phase = state.withLock { $0.phase }
        switch phase {
        case .awaitingHead:
            let error = service.frontEndError(status: 500, message: "the service returned without writing a response")
            try? await respond(status: error.head.status, headers: error.head.headers, body: error.body)
        case .streaming:
            do {
                try await end()
            } catch let error as HTTPFrontendError where error != .clientGone {
                // Fewer body bytes than the head's content-length promised.
                clientGone()
                sink.abort()
            } catch {}
        case .ended, .clientGone:
            return
        }
    }

    private func wait(_ future: EventLoopFuture<Void>) async throws {
        do {
            try await future.get()
        } catch let error as HTTPFrontendError {
            if error == .clientGone { clientGone() }
            throw error
        } catch {
            // A failed write means the connection is gone (NIO's `ioOnClosedChannel` and the like).
            clientGone()
            throw HTTPFrontendError.clientGone
        }
    }
}
