import HTTPFrontend
import NIOCore
import Synchronization

/// The service behind the front end in these tests, a real one with a few routes:
/// - `/health`: `ok` in one `respond`.
/// - `/echo`: the request body back, with what the front end saw in `x-` headers.
/// - `/stream?n=N&size=S`: N chunks of S bytes (`content-length` unknown, so chunked or DATA frames),
///   each written only after the previous one was handed to the connection.
/// - `/hang`: waits until its task is cancelled.
/// - `/gated`: answers once ``openGate()`` was called.
/// - `/forget`: returns without writing anything (the front end answers 500).
/// - `/short`: promises 10 bytes in `content-length`, writes 5 and returns.
/// Everything it does is recorded as ``Event``s that tests wait for.
final class TestService: HTTPService {
    enum Event: Sendable, Equatable {
        case started(String)
        case chunkWritten(Int)
        case cancelled(String)
        case writeFailed(String, HTTPFrontendError)
        case finished(String)
    }

    private struct State {
        var events: [Event] = []
        var gateOpen = false
        var gateWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    var events: [Event] { state.withLock { $0.events } }

    func handle(_ request: HTTPServerRequest, response: any HTTPResponseWriter) async {
        let path = String(request.path)
        record(.started(path))
        do {
            switch path {
            case "/health":
                try await response.respond(status: 200, headers: [("content-type", "text/plain")], body: ByteBuffer(string: "ok\n"))
            case "/echo":
                try await echo(request, response)
            case "/stream":
                try await stream(request, response)
            case "/hang":
                do {
                    try await Task.sleep(for: .seconds(3600))
                } catch {
                    record(.cancelled(path))
                    return
                }
            case "/gated":
                await waitForGate()
                try await response.respond(status: 200, headers: [], body: ByteBuffer(string: "gate passed"))
            case "/forget":
                break
            case "/short":
                try await response.writeHead(HTTPResponseHead(status: 200, headers: [("content-length", "10")]))
                try await response.writeBody(ByteBuffer(string: "12345"))
            default:
                try await response.respond(status: 404, headers: [], body: ByteBuffer(string: "no route \(path)"))
            }
            record(.finished(path))
        } catch let error as HTTPFrontendError {
            record(.writeFailed(path, error))
        } catch {
            record(.writeFailed(path, .invalidState("\(error)")))
        }
    }

    func errorResponse(status: Int, message: String) -> (contentType: String, body: ByteBuffer) {
        ("application/json", ByteBuffer(string: #"{"error":{"status":\#(status),"message":"\#(message)"}}"#))
    }

    private func echo(_ request: HTTPServerRequest, _ response: any HTTPResponseWriter) async throws {
        let version = request.protocolVersion == .http2 ? "2" : "1.1"
        let headers = [
            ("x-method", request.method), ("x-target", request.target), ("x-protocol", version),
            ("x-tls", request.isTLS ? "yes" : "no"), ("x-body-bytes", String(request.body.readableBytes)),
            ("x-header-count", String(request.headers.count)),
            ("x-host", request.header("host") ?? "-"),
        ]
        try await response.respond(status: 200, headers: headers, body: request.body)
    }

    private func stream(_ request: HTTPServerRequest, _ response: any HTTPResponseWriter) async throws {
        let count = Self.query(request.target, "n") ?? 3
        let size = Self.query(request.target, "size") ?? 16
        try await response.writeHead(HTTPResponseHead(status: 200, headers: [("content-type", "text/event-stream")]))
        for index in 0..<count {
            try await response.writeBody(Self.chunk(index, size: size))
            record(.chunkWritten(index))
        }
        try await response.end()
    }

    /// Chunk `index` of `/stream`: its index, then filler up to `size` bytes.
    static func chunk(_ index: Int, size: Int) -> ByteBuffer {
        let label = "\(index):"
        return ByteBuffer(string: label + String(repeating: Character(UnicodeScalar(UInt8(97 + index % 26))),
                                                  count: max(0, size - label.utf8.count)))
    }

    static func query(_ target: String, _ name: String) -> Int? {
        guard let query = target.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == name { return Int(parts[1]) }
        }
        return nil
    }

    func openGate() {
        let waiters = state.withLock { state in
            state.gateOpen = true
            defer { state.gateWaiters = [] }
            return state.gateWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func waitForGate() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if !state.gateOpen { state.gateWaiters.append(continuation) }
                return state.gateOpen
            }
            if open { continuation.resume() }
        }
    }

    private func record(_ event: Event) {
        state.withLock { $0.events.append(event) }
    }

    /// Waits (polling; bounded by the suites' time limits) until an event matching `predicate` was
    /// recorded.
    @discardableResult
    func waitFor(_ what: String = "event", _ predicate: @escaping @Sendable (Event) -> Bool) async throws -> Event {
        for _ in 0..<60_000 {
            if let event = events.first(where: predicate) { return event }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw TestFailure("timed out waiting for \(what); events: \(events)")
    }

    func count(_ predicate: (Event) -> Bool) -> Int {
        events.filter(predicate).count
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
