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

    @Test func http2WithPriorKnowledge() async throws {
        try await LiveServer.with { live in
            let echo = try await Command.curl(["--http2-prior-knowledge", "-i", "--data-binary", "hello over h2", "\(live.url)/echo"])
            #expect(echo.status == 0, "\(echo.stderr)")
            #expect(echo.stdout.hasPrefix("HTTP/2 200"))
            #expect(echo.stdout.contains("x-protocol: 2"))
            #expect(echo.stdout.hasSuffix("hello over h2"))

            let stream = try await Command.curl(["--http2-prior-knowledge", "\(live.url)/stream?n=200&size=4000"])
            #expect(stream.status == 0, "\(stream.stderr)")
            #expect(stream.stdout == (0..<200).map { String(buffer: TestService.chunk($0, size: 4000)) }.joined())
        }
    }

    @Test func h2loadSmokeRunSucceedsEveryRequest() async throws {
        try await LiveServer.with { live in
            let run = try await Command.run("/usr/bin/h2load", ["-n", "2000", "-c", "4", "-m", "8", "\(live.url)/health"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored"),
                    "\(run.stdout)")
            #expect(run.stdout.contains("status codes: 2000 2xx"), "\(run.stdout)")
        }
    }
}
