import NIOCore
import TestRandom
import Testing
@testable import HTTPFrontend

/// Whatever bytes arrive, a connection answers or closes; the process never crashes.
@Suite("robustness", .timeLimit(.minutes(3)))
struct RobustnessTests {
    static let starts: [[UInt8]] = [
        [],
        ProtocolDetector.preface,
        ProtocolDetector.preface + [0, 0, 0, 4, 0, 0, 0, 0, 0],  // preface + empty SETTINGS
        Array("GET / HTTP/1.1\r\nhost: x\r\n".utf8),
        Array("POST /echo HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n".utf8),
        Array("GET / HTTP/1.1\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABk\r\n\r\n".utf8),
    ]

    @Test(arguments: 0..<6)
    func randomBytesAfterEachStart(start: Int) async throws {
        var random = SplitMix64(seed: UInt64(start) &* 7919)
        for _ in 0..<40 {
            let service = TestService()
            let connection = try await HTTP2TestConnection(service: service)
            var bytes = Self.starts[start]
            let noise = Int.random(in: 1...600, using: &random)
            bytes += (0..<noise).map { _ in UInt8.random(in: 0...255, using: &random) }
            // In pieces of random sizes, as a socket would deliver them.
            var offset = 0
            while offset < bytes.count, connection.server.isActive {
                let size = min(bytes.count - offset, Int.random(in: 1...128, using: &random))
                try await connection.sendRaw(ByteBuffer(bytes: bytes[offset..<(offset + size)]))
                offset += size
            }
            while try await connection.server.readOutbound(as: ByteBuffer.self) != nil {}
            if connection.server.isActive {
                try await connection.server.close()
            }
        }
    }
}
