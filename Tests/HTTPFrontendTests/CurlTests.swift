import Foundation
import Testing
import HTTPFrontend

/// The front end on a real socket, spoken to by the system's `curl`.
@Suite("curl against a live server", .serialized, .timeLimit(.minutes(3)))
struct CurlTests {
    @Test func http11EchoAndStream() async throws {
        try await LiveServer.with { live in
            let echo = try await Command.curl(["--http1.1", "-i", "--data-binary", "hello over 1.1", "\(live.url)/echo"])
            #expect(echo.status == 0, "\(echo.stderr)")
            #expect(echo.stdout.hasPrefix("HTTP/1.1 200"))
            #expect(echo.stdout.lowercased().contains("x-protocol: 1.1"))
            #expect(echo.stdout.hasSuffix("hello over 1.1"))

            let stream = try await Command.curl(["--http1.1", "\(live.url)/stream?n=50&size=1000"])
            #expect(stream.status == 0, "\(stream.stderr)")
            #expect(stream.stdout == (0..<50).map { String(buffer: TestService.chunk($0, size: 1000)) }.joined())
        }
    }
}
