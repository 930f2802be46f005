import NIOCore
import NIOHTTP1
import Testing
@testable import HTTPFrontend

/// HTTP/1.1 through the front end's handlers in a testing channel, spoken to by NIO's client codec.
@Suite("HTTP/1.1", .timeLimit(.minutes(2)))
struct HTTP1Tests {
    @Test func oneResponseWithContentLengthAndTheConnectionStaysOpen() async throws {
        let service = TestService()
        let connection = try await HTTP1TestClient(service: service)
        try await connection.send(.GET, "/health")
        let response = try await connection.nextResponse()
        #expect(response.status == 200)
        #expect(response.body == "ok\n")
        #expect(response.header("content-length") == "3")
        #expect(response.header("transfer-encoding") == nil)
        #expect(response.header("server") == "specula")
        #expect(response.header("date")?.hasSuffix(" GMT") == true)
        #expect(connection.isOpen)

        try await connection.send(.POST, "/echo?x=1", headers: [("X-Custom", "Value")], body: "hello body")
        let echo = try await connection.nextResponse()
        #expect(echo.status == 200 && echo.body == "hello body")
        #expect(echo.header("x-method") == "POST" && echo.header("x-target") == "/echo?x=1")
        #expect(echo.header("x-protocol") == "1.1" && echo.header("x-tls") == "no")
        #expect(echo.header("x-host") == "test")
    }

    @Test func aStreamedBodyIsChunked() async throws {
        let connection = try await HTTP1TestClient(service: TestService())
        try await connection.send(.GET, "/stream?n=5&size=10")
        let response = try await connection.nextResponse()
        #expect(response.header("transfer-encoding") == "chunked")
        #expect(response.header("content-length") == nil)
        #expect(response.body == (0..<5).map { String(buffer: TestService.chunk($0, size: 10)) }.joined())
        #expect(connection.isOpen)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let connection = try await HTTP1TestClient(service: TestService())
        try await connection.sendRaw(
            "GET /stream?n=3&size=4 HTTP/1.1\r\nhost: a\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nfirst"
                + "GET /health HTTP/1.1\r\nhost: a\r\n\r\n", requests: 3)
        #expect(try await connection.nextResponse().body == "0:aa1:bb2:cc")
        #expect(try await connection.nextResponse().body == "first")
        #expect(try await connection.nextResponse().body == "ok\n")
    }

    @Test func expectContinueGetsA100BeforeTheBodyIsSent() async throws {
        let connection = try await HTTP1TestClient(service: TestService())
        try await connection.send(.POST, "/echo", headers: [("expect", "100-continue"), ("content-length", "4")], end: false)
        guard case .head(let interim) = try await connection.nextPart() else { throw TestFailure("no interim head") }
        #expect(interim.status == .continue)
        try await connection.sendBody("data")
        let response = try await connection.nextResponse()
        #expect(response.status == 200 && response.body == "data")
    }

    @Test func anAnnouncedBodyTooLargeGets413AndTheConnectionCloses() async throws {
        let connection = try await HTTP1TestClient(service: TestService(), limits: HTTPLimits(maxBodyBytes: 100))
        try await connection.send(.POST, "/echo", headers: [("expect", "100-continue"), ("content-length", "101")], end: false)
        let response = try await connection.nextResponse()
        #expect(response.status == 413)
        #expect(response.informational.isEmpty, "no 100 Continue for a body that will be refused")
        #expect(response.header("content-type") == "application/json")
        #expect(response.body.contains(#""status":413"#))
        #expect(response.header("connection") == "close")
        try await connection.waitForClose()
    }

    @Test func aChunkedBodyGrowingPastTheLimitGets413() async throws {
        let service = TestService()
        let connection = try await HTTP1TestClient(service: service, limits: HTTPLimits(maxBodyBytes: 100))
        try await connection.send(.POST, "/echo", headers: [("transfer-encoding", "chunked")], end: false)
        try await connection.sendBody(String(repeating: "x", count: 60), end: false)
        try await connection.sendBody(String(repeating: "y", count: 60), end: false)
        let response = try await connection.nextResponse()
        #expect(response.status == 413)
        try await connection.waitForClose()
        #expect(service.events.isEmpty, "the service never saw the request")
    }

    @Test func headersTooLargeGet431() async throws {
        let connection = try await HTTP1TestClient(service: TestService(), limits: HTTPLimits(maxHeaderListBytes: 2048))
        try await connection.send(.GET, "/health", headers: [("x-big", String(repeating: "h", count: 3000))])
        let response = try await connection.nextResponse()
        #expect(response.status == 431)
        #expect(response.body.contains(#""status":431"#))
        try await connection.waitForClose()
    }

    @Test func garbageGets400AndTheConnectionCloses() async throws {
        let connection = try await HTTP1TestClient(service: TestService())
        try await connection.sendRaw("\u{01}\u{02}garbage that is not HTTP\r\n\r\n")
        let response = try await connection.nextResponse()
        #expect(response.status == 400)
        #expect(response.body.contains("malformed HTTP/1.1 request"))
        try await connection.waitForClose()
    }

    @Test func aServiceThatWritesNothingYields500() async throws {
        let connection = try await HTTP1TestClient(service: TestService())
        try await connection.send(.GET, "/forget")
        let response = try await connection.nextResponse()
        #expect(response.status == 500)
        #expect(connection.isOpen)
    }

    @Test func aResponseShortOfItsContentLengthClosesTheConnection() async throws {
        let connection = try await HTTP1TestClient(service: TestService())
        try await connection.send(.GET, "/short")
        guard case .head(let head) = try await connection.nextPart() else { throw TestFailure("no head") }
        #expect(head.status == .ok)
        try await connection.waitForClose()
    }

    @Test func http10WithoutKeepAliveCloses() async throws {
        let connection = try await HTTP1TestClient(service: TestService())
        try await connection.sendRaw("GET /stream?n=2&size=4 HTTP/1.0\r\n\r\n")
        let response = try await connection.nextResponse()
        #expect(response.status == 200 && response.body == "0:aa1:bb")
        #expect(response.header("connection") == "close")
        try await connection.waitForClose()
    }

    @Test func closingTheConnectionCancelsTheServiceTask() async throws {
        let service = TestService()
        let connection = try await HTTP1TestClient(service: service)
        try await connection.send(.GET, "/hang")
        try await service.waitFor("start") { $0 == .started("/hang") }
        try await connection.server.close()
        try await service.waitFor("cancellation") { $0 == .cancelled("/hang") }
    }

    @Test func aRequestWhileDrainingGets503() async throws {
        let lifecycle = ServerLifecycle()
        _ = lifecycle.beginDraining()
        let connection = try await HTTP1TestClient(service: TestService(), lifecycle: lifecycle)
        try await connection.send(.GET, "/health")
        let response = try await connection.nextResponse()
        #expect(response.status == 503)
        try await connection.waitForClose()
    }

    @Test func anIdleConnectionIsClosedButNotOneWithARequestInProgress() async throws {
        let service = TestService()
        let limits = HTTPLimits(idleTimeout: .seconds(5))
        let busy = try await HTTP1TestClient(service: service, limits: limits, fullSetup: true)
        try await busy.send(.GET, "/gated")
        try await service.waitFor { $0 == .started("/gated") }
        await busy.server.testingEventLoop.advanceTime(by: .seconds(6))
        #expect(busy.isOpen, "a request in progress keeps its connection")
        service.openGate()
        #expect(try await busy.nextResponse().body == "gate passed")

        let idle = try await HTTP1TestClient(service: service, limits: limits, fullSetup: true)
        await idle.server.testingEventLoop.advanceTime(by: .seconds(6))
        try await idle.waitForClose()

        let stalled = try await HTTP1TestClient(service: service, limits: limits, fullSetup: true)
        try await stalled.send(.POST, "/echo", headers: [("content-length", "100")], end: false)
        await stalled.server.testingEventLoop.advanceTime(by: .seconds(6))
        try await stalled.waitForClose()
    }
}
