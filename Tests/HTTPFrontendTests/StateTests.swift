import NIOCore
import Testing
@testable import HTTPFrontend

/// The front end's decisions as values: protocol detection, response ordering, reset limiting,
/// request bodies, limits.
@Suite("front-end state")
struct StateTests {
    @Test func protocolDetectionByThePreface() {
        let preface = ByteBuffer(bytes: ProtocolDetector.preface)
        #expect(ProtocolDetector.decide(preface) == .http2)
        #expect(ProtocolDetector.decide(ByteBuffer(bytes: ProtocolDetector.preface + [0, 0, 0])) == .http2)
        #expect(ProtocolDetector.decide(ByteBuffer(string: "PRI * HTT")) == .needMoreBytes)
        #expect(ProtocolDetector.decide(ByteBuffer(string: "P")) == .needMoreBytes)
        #expect(ProtocolDetector.decide(ByteBuffer(string: "POST / HTTP/1.1\r\n")) == .http1)
        #expect(ProtocolDetector.decide(ByteBuffer(string: "GET")) == .http1)
        #expect(ProtocolDetector.decide(ByteBuffer(string: "PRI * HTTP/1.1\r\n")) == .http1)
    }

    @Test func responseCallsInOrder() throws {
        var state = ResponseState(requestMethod: "GET")
        #expect(throws: HTTPFrontendError.invalidState("writeBody before writeHead")) { _ = try state.body(3) }
        try state.head(HTTPResponseHead(status: 200, headers: [("content-length", "5")]))
        #expect(throws: HTTPFrontendError.invalidState("writeHead twice")) { try state.head(HTTPResponseHead(status: 200)) }
        #expect(try state.body(3))
        #expect(throws: HTTPFrontendError.self) { _ = try state.body(3) }  // past content-length
        #expect(throws: HTTPFrontendError.self) { try state.end() }  // short of content-length
        #expect(try state.body(2))
        try state.end()
        #expect(state.isComplete)
        #expect(throws: HTTPFrontendError.invalidState("end after end")) { try state.end() }
    }

    @Test func headAnd204ResponsesDropTheirBody() throws {
        var head = ResponseState(requestMethod: "HEAD")
        try head.head(HTTPResponseHead(status: 200, headers: [("content-length", "100")]))
        #expect(try head.body(100) == false)
        try head.end()
        var noContent = ResponseState(requestMethod: "GET")
        try noContent.head(HTTPResponseHead(status: 204))
        #expect(try noContent.body(1) == false)
    }

    @Test func headValidation() {
        func check(_ head: HTTPResponseHead) -> Bool { (try? ResponseState.validate(head)) != nil }
        #expect(check(HTTPResponseHead(status: 200, headers: [("content-type", "text/plain"), ("x-a_b", "1")])))
        #expect(!check(HTTPResponseHead(status: 101)), "1xx belongs to the front end")
        #expect(!check(HTTPResponseHead(status: 600)))
        #expect(!check(HTTPResponseHead(status: 200, headers: [("Content-Type", "x")])), "uppercase name")
        #expect(!check(HTTPResponseHead(status: 200, headers: [("x", "a\r\nb")])), "CRLF in a value")
        #expect(!check(HTTPResponseHead(status: 200, headers: [("content-length", "-1")])))
    }

    @Test func clientGoneWins() throws {
        var state = ResponseState(requestMethod: "GET")
        try state.head(HTTPResponseHead(status: 200))
        state.clientGone()
        #expect(throws: HTTPFrontendError.clientGone) { _ = try state.body(1) }
        #expect(throws: HTTPFrontendError.clientGone) { try state.end() }
    }

    @Test func resetBucketRefillsAtItsRate() {
        var limiter = ResetRateLimiter(burst: 3, perSecond: 2)
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        func allowed(_ count: Int, at time: NIODeadline) -> Int {
            (0..<count).filter { _ in limiter.allowReset(at: time) }.count
        }
        #expect(allowed(4, at: start) == 3, "the burst, then no more")
        #expect(allowed(2, at: start + .milliseconds(500)) == 1, "one token back after half a second at 2/s")
        #expect(allowed(5, at: start + .seconds(60)) == 3, "refills up to the burst only")
    }

    @Test func requestBodyLimit() {
        var body = RequestBody(limit: 10)
        #expect(body.announce(contentLength: "10") == .ok)
        #expect(body.announce(contentLength: "11") != .ok)
        #expect(body.announce(contentLength: "not a number") == .ok, "the decoder judges malformed lengths")
        #expect(body.append(ByteBuffer(string: "123456")) == .ok)
        #expect(body.append(ByteBuffer(string: "12345")) != .ok)
        #expect(body.bytes.readableBytes == 6)
    }

    @Test func limitsAreValidated() {
        #expect((try? HTTPLimits.default.validate()) != nil)
        #expect(throws: HTTPFrontendError.self) { try HTTPLimits(maxConcurrentStreams: 0).validate() }
        #expect(throws: HTTPFrontendError.self) { try HTTPLimits(initialStreamWindowBytes: 1 << 31).validate() }
        #expect(throws: HTTPFrontendError.self) { try HTTPLimits(resetBurst: 0).validate() }
    }

    @Test func httpDate() {
        #expect(HTTPDate.format(epochSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(epochSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }
}
