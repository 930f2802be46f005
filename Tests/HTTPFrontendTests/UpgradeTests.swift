import CNGHTTP2
import Foundation
import NIOCore
import Testing
@testable import HTTPFrontend

/// HTTP/1.1 `Upgrade: h2c`: 101, then HTTP/2, the upgrading request (body included) served as stream 1.
@Suite("h2c upgrade", .timeLimit(.minutes(2)))
struct UpgradeTests {
    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test func base64URLDecoding() {
        #expect(H2CUpgrade.decodeBase64URL("AAMAAABkAAQAoAAAAAIAAAAA") == [0, 3, 0, 0, 0, 100, 0, 4, 0, 160, 0, 0, 0, 2, 0, 0, 0, 0])
        #expect(H2CUpgrade.decodeBase64URL("") == [])
        #expect(H2CUpgrade.decodeBase64URL("-_8") == [0xFB, 0xFF])
        #expect(H2CUpgrade.decodeBase64URL("-_8=") == [0xFB, 0xFF])
        #expect(H2CUpgrade.decodeBase64URL("A") == nil, "one sextet is not a byte")
        #expect(H2CUpgrade.decodeBase64URL("AB+/") == nil, "base64 (not url) alphabet")
    }

    @Test func anUpgradingPostKeepsItsBodyAndIsServedAsStream1() async throws {
        let service = TestService()
        let client = try NGHTTP2TestClient()
        let connection = try await HTTP2TestConnection(service: service, client: client)
        let payload = client.settingsPayload([(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100)])
        let body = "a body that must not be lost"
        try await connection.sendRaw(ByteBuffer(string:
            "POST /echo HTTP/1.1\r\nhost: test.local\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\n"
                + "http2-settings: \(Self.base64URL(payload))\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)"))

        var received = ByteBuffer()
        while received.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
            var bytes = try await connection.server.waitForOutboundWrite(as: ByteBuffer.self)
            received.writeBuffer(&bytes)
        }
        let end = received.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8))!.upperBound
        let head = received.readString(length: end - received.readerIndex)!
        #expect(head.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(head.lowercased().contains("upgrade: h2c"))

        try client.upgrade(settingsPayload: payload)
        try client.receive(received)  // HTTP/2 bytes that came with the 101, if any
        try await connection.run(until: "stream 1 answered") { client.isClosed(1) }
        let response = client.response(1)
        #expect(response.status == 200 && response.text == body)
        #expect(response.header("x-protocol") == "2" && response.header("x-method") == "POST")

        let next = try client.request("GET", "/health")
        try await connection.run(until: "the next stream answered") { client.isClosed(next) }
        #expect(client.response(next).text == "ok\n")
    }

    @Test func otherUpgradesAreServedAsHTTP11ThenTheConnectionCloses() async throws {
        let connection = try await HTTP1TestClient(service: TestService())
        try await connection.send(.GET, "/health", headers: [("connection", "Upgrade"), ("upgrade", "websocket")])
        let response = try await connection.nextResponse()
        #expect(response.status == 200 && response.header("connection") == "close")
        try await connection.waitForClose()
    }
}
