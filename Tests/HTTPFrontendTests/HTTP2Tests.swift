import CNGHTTP2
import NIOCore
import Testing
@testable import HTTPFrontend

/// HTTP/2 with prior knowledge through the whole connection setup (protocol detection included),
/// spoken to by an nghttp2 client session.
@Suite("HTTP/2", .timeLimit(.minutes(2)))
struct HTTP2Tests {
    @Test func requestsAndResponsesOverOneConnection() async throws {
        let connection = try await HTTP2TestConnection(service: TestService())
        let health = try connection.client.request("GET", "/health")
        let echo = try connection.client.request("POST", "/echo?q=2", headers: [("x-custom", "v")], body: "hello h2")
        try await connection.run(until: "both answered") { connection.client.isClosed(health) && connection.client.isClosed(echo) }

        let first = connection.client.response(health)
        #expect(first.status == 200 && first.text == "ok\n")
        #expect(first.header("content-length") == "3" && first.header("server") == "specula")
        #expect(first.header("date")?.hasSuffix(" GMT") == true)
        #expect(first.closeCode == NGHTTP2_NO_ERROR.rawValue)
        let second = connection.client.response(echo)
        #expect(second.status == 200 && second.text == "hello h2")
        #expect(second.header("x-protocol") == "2" && second.header("x-method") == "POST")
        #expect(second.header("x-target") == "/echo?q=2" && second.header("x-host") == "test.local")
        #expect(connection.server.isActive)
    }

    @Test func manyConcurrentStreamsEachGetTheirOwnAnswer() async throws {
        let connection = try await HTTP2TestConnection(service: TestService())
        let streams = try (0..<40).map { try connection.client.request("POST", "/echo", body: "body \($0)") }
        try await connection.run(until: "all answered") { streams.allSatisfy(connection.client.isClosed) }
        for (index, stream) in streams.enumerated() {
            #expect(connection.client.response(stream).text == "body \(index)")
        }
    }

    @Test func aStreamedResponseArrivesWhole() async throws {
        let connection = try await HTTP2TestConnection(service: TestService())
        let stream = try connection.client.request("GET", "/stream?n=30&size=1000")
        try await connection.run(until: "streamed") { connection.client.isClosed(stream) }
        let response = connection.client.response(stream)
        #expect(response.status == 200 && response.header("content-length") == nil)
        #expect(response.text == (0..<30).map { String(buffer: TestService.chunk($0, size: 1000)) }.joined())
    }

    @Test(arguments: [ServiceExecution.globalExecutor, .connectionEventLoop])
    func aFullFlowControlWindowHoldsTheWriterUntilTheClientReads(execution: ServiceExecution) async throws {
        let service = TestService()
        let client = try NGHTTP2TestClient(settings: [(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1000)], autoWindowUpdate: false)
        let connection = try await HTTP2TestConnection(service: service, client: client, execution: execution)
        let stream = try client.request("GET", "/stream?n=20&size=500")
        try await connection.run(until: "the window is full") { client.response(stream).body.count == 1000 }
        try await connection.settle()
        #expect(service.count { if case .chunkWritten = $0 { true } else { false } } == 2,
                "two chunks fit the 1000-byte window; the third writeBody waits")
        #expect(client.response(stream).body.count == 1000)

        var consumed = 0
        // The handler records `finished` after its last write returns, which on the global executor
        // can come after the client has seen the stream end.
        try await connection.run(until: "everything was read and the handler returned") {
            let received = client.response(stream).body.count
            if received > consumed {
                client.consume(stream, bytes: received - consumed)
                consumed = received
            }
            return client.isClosed(stream) && service.events.contains(.finished("/stream"))
        }
        #expect(client.response(stream).text == (0..<20).map { String(buffer: TestService.chunk($0, size: 500)) }.joined())
        #expect(service.events.contains(.finished("/stream")))
    }

    @Test func anUnwritableChannelHoldsTheWriter() async throws {
        let service = TestService()
        let connection = try await HTTP2TestConnection(service: service)
        try await connection.run(until: "settings exchanged") { connection.client.output().readableBytes == 0 }
        connection.server.isWritable = false
        let stream = try connection.client.request("GET", "/stream?n=10&size=100")
        try await connection.exchange()
        try await service.waitFor { $0 == .started("/stream") }
        try await connection.settle()
        #expect(service.count { if case .chunkWritten = $0 { true } else { false } } == 0,
                "nothing is taken from the stream while the socket is full")
        connection.server.isWritable = true
        connection.server.pipeline.fireChannelWritabilityChanged()
        try await connection.run(until: "streamed") { connection.client.isClosed(stream) }
        #expect(connection.client.response(stream).body.count == 1000)
    }

    @Test(arguments: [ServiceExecution.globalExecutor, .connectionEventLoop])
    func aClientResetCancelsTheServiceTask(execution: ServiceExecution) async throws {
        let service = TestService()
        let connection = try await HTTP2TestConnection(service: service, execution: execution)
        let hang = try connection.client.request("GET", "/hang")
        try await connection.exchange()
        try await service.waitFor { $0 == .started("/hang") }
        connection.client.reset(hang)
        try await connection.exchange()
        try await service.waitFor("cancellation") { $0 == .cancelled("/hang") }
        #expect(connection.server.isActive, "a reset costs the stream, not the connection")
    }

    @Test func aResetWhileTheWriterWaitsMakesItThrowClientGone() async throws {
        let service = TestService()
        let client = try NGHTTP2TestClient(settings: [(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 100)], autoWindowUpdate: false)
        let connection = try await HTTP2TestConnection(service: service, client: client)
        let stream = try client.request("GET", "/stream?n=10&size=100")
        try await connection.run(until: "the window is full") { client.response(stream).body.count == 100 }
        client.reset(stream)
        try await connection.exchange()
        try await service.waitFor("the writer's error") { $0 == .writeFailed("/stream", .clientGone) }
    }

    @Test func bodiesTooLargeGet413AndTheConnectionCarriesOn() async throws {
        let connection = try await HTTP2TestConnection(service: TestService(), limits: HTTPLimits(maxBodyBytes: 100))
        let announced = try connection.client.request("POST", "/echo", headers: [("content-length", "101")],
                                                      body: String(repeating: "a", count: 101))
        let streamed = try connection.client.request("POST", "/echo", body: String(repeating: "b", count: 5000))
        try await connection.run(until: "both refused") { connection.client.isClosed(announced) && connection.client.isClosed(streamed) }
        for stream in [announced, streamed] {
            let response = connection.client.response(stream)
            #expect(response.status == 413)
            #expect(response.header("content-type") == "application/json")
            #expect(response.text.contains(#""status":413"#))
        }
        let after = try connection.client.request("GET", "/health")
        try await connection.run(until: "answered") { connection.client.isClosed(after) }
        #expect(connection.client.response(after).status == 200)
    }

    @Test func after413TheClientIsToldToStopSending() async throws {
        let limits = HTTPLimits(maxBodyBytes: 100, initialStreamWindowBytes: 65_535)
        let connection = try await HTTP2TestConnection(service: TestService(), limits: limits)
        let stream = try connection.client.request("POST", "/echo", body: String(repeating: "z", count: 1_000_000))
        try await connection.run(until: "refused") { connection.client.isClosed(stream) }
        #expect(connection.client.response(stream).status == 413)
        #expect(connection.client.response(stream).closeCode == NGHTTP2_NO_ERROR.rawValue)
        #expect(connection.client.unsentBody(stream) > 0, "RST_STREAM(NO_ERROR) ended the upload early")
    }

    @Test func headersTooLargeGet431() async throws {
        let connection = try await HTTP2TestConnection(service: TestService(), limits: HTTPLimits(maxHeaderListBytes: 2048))
        let stream = try connection.client.request("GET", "/health", headers: [("x-big", String(repeating: "h", count: 3000))])
        try await connection.run(until: "refused") { connection.client.isClosed(stream) }
        #expect(connection.client.response(stream).status == 431)
        #expect(connection.server.isActive)
    }

    @Test func aServiceThatWritesNothingYields500() async throws {
        let connection = try await HTTP2TestConnection(service: TestService())
        let stream = try connection.client.request("GET", "/forget")
        try await connection.run(until: "answered") { connection.client.isClosed(stream) }
        #expect(connection.client.response(stream).status == 500)
    }

    @Test func aResponseShortOfItsContentLengthIsReset() async throws {
        let connection = try await HTTP2TestConnection(service: TestService())
        let stream = try connection.client.request("GET", "/short")
        try await connection.run(until: "closed") { connection.client.isClosed(stream) }
        #expect(connection.client.response(stream).closeCode != NGHTTP2_NO_ERROR.rawValue)
        #expect(connection.server.isActive)
    }

    @Test func aRequestWhileDrainingGets503() async throws {
        let lifecycle = ServerLifecycle()
        _ = lifecycle.beginDraining()
        let connection = try await HTTP2TestConnection(service: TestService(), lifecycle: lifecycle)
        let stream = try connection.client.request("GET", "/health")
        try await connection.run(until: "answered") { connection.client.isClosed(stream) }
        #expect(connection.client.response(stream).status == 503)
    }

    @Test func garbageAfterThePrefaceEndsTheConnectionWithGoAway() async throws {
        let connection = try await HTTP2TestConnection(service: TestService())
        var bytes = ByteBuffer(bytes: ProtocolDetector.preface)
        // A frame header announcing a 16 MB frame of unknown type on stream 0, then noise.
        bytes.writeBytes([0xFF, 0xFF, 0xFF, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00] + Array(repeating: 0x41, count: 64))
        try await connection.sendRaw(bytes)
        try await connection.waitForClose()
        // The server's SETTINGS, then a GOAWAY (type 7) with an error code.
        #expect(connection.serverBytes.readableBytesView.contains(0x07))
    }

    @Test func rapidResetsEndTheConnectionWithEnhanceYourCalm() async throws {
        let service = TestService()
        let connection = try await HTTP2TestConnection(service: service, limits: HTTPLimits(resetBurst: 5, resetsPerSecond: 1))
        for _ in 0..<20 where connection.server.isActive {
            let stream = try connection.client.request("GET", "/hang")
            try await connection.exchange()  // the client resets only streams it has opened
            connection.client.reset(stream)
            try await connection.exchange()
        }
        try await connection.waitForClose()
        #expect(connection.client.goAway?.errorCode == NGHTTP2_ENHANCE_YOUR_CALM.rawValue)
    }

    @Test func aStalledUploadDoesNotKeepAnIdleConnection() async throws {
        let connection = try await HTTP2TestConnection(service: TestService(), limits: HTTPLimits(idleTimeout: .seconds(5)))
        try connection.client.request("POST", "/echo", holdOpen: true)
        try await connection.exchange()
        await connection.server.testingEventLoop.advanceTime(by: .seconds(6))
        try await connection.waitForClose()
        #expect(connection.client.goAway?.errorCode == NGHTTP2_NO_ERROR.rawValue)
    }

    @Test func quiescingSendsGoAwayAndLetsStartedStreamsFinish() async throws {
        let service = TestService()
        let connection = try await HTTP2TestConnection(service: service)
        let gated = try connection.client.request("GET", "/gated")
        try await connection.exchange()
        try await service.waitFor { $0 == .started("/gated") }
        connection.server.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        try await connection.run(until: "GOAWAY") { connection.client.goAway != nil }
        #expect(connection.client.goAway?.errorCode == NGHTTP2_NO_ERROR.rawValue)
        #expect(connection.client.goAway?.lastStream == gated)
        #expect(connection.server.isActive, "the started stream keeps the connection")
        service.openGate()
        try await connection.run(until: "answered") { connection.client.isClosed(gated) }
        #expect(connection.client.response(gated).text == "gate passed")
        try await connection.waitForClose()
    }

    @Test func theServerAdvertisesItsLimits() async throws {
        let limits = HTTPLimits(maxConcurrentStreams: 7, maxHeaderListBytes: 4096, initialStreamWindowBytes: 100_000,
                                connectionWindowBytes: 2_000_000)
        let connection = try await HTTP2TestConnection(service: TestService(), limits: limits)
        let stream = try connection.client.request("GET", "/health")
        try await connection.run(until: "answered") { connection.client.isClosed(stream) }
        #expect(connection.client.remoteSetting(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS) == 7)
        #expect(connection.client.remoteSetting(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE) == 4096)
        #expect(connection.client.remoteSetting(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE) == 100_000)
        #expect(connection.client.remoteSetting(NGHTTP2_SETTINGS_ENABLE_PUSH) == 0)
        #expect(connection.client.remoteConnectionWindow == 2_000_000)
    }
}
