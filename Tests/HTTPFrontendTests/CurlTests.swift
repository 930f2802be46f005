import Foundation
import Testing
import HTTPFrontend

/// The front end on a real socket, spoken to by the system's `curl`.
@Suite("curl against a live server", .serialized, .timeLimit(.minutes(3)))
struct CurlTests {
    @Test(arguments: [ServiceExecution.globalExecutor, .connectionEventLoop])
    func http11EchoAndStream(execution: ServiceExecution) async throws {
        try await LiveServer.with(execution: execution) { live in
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

    @Test(arguments: [ServiceExecution.globalExecutor, .connectionEventLoop])
    func http2WithPriorKnowledge(execution: ServiceExecution) async throws {
        try await LiveServer.with(execution: execution) { live in
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

    @Test(arguments: [ServiceExecution.globalExecutor, .connectionEventLoop])
    func h2loadSmokeRunSucceedsEveryRequest(execution: ServiceExecution) async throws {
        try await LiveServer.with(execution: execution) { live in
            let run = try await Command.run("/usr/bin/h2load", ["-n", "2000", "-c", "4", "-m", "8", "\(live.url)/health"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored"),
                    "\(run.stdout)")
            #expect(run.stdout.contains("status codes: 2000 2xx"), "\(run.stdout)")
        }
    }

    @Test func h2cUpgradeFromCurl() async throws {
        try await LiveServer.with { live in
            let get = try await Command.curl(["--http2", "-i", "\(live.url)/echo"])
            #expect(get.status == 0, "\(get.stderr)")
            #expect(get.stdout.hasPrefix("HTTP/1.1 101"), "\(get.stdout)")
            #expect(get.stdout.contains("HTTP/2 200") && get.stdout.contains("x-protocol: 2"))

            let post = try await Command.curl(["--http2", "-i", "--data-binary", "upgrade body", "\(live.url)/echo"])
            #expect(post.status == 0, "\(post.stderr)")
            #expect(post.stdout.hasPrefix("HTTP/1.1 101"), "\(post.stdout)")
            #expect(post.stdout.contains("x-body-bytes: 12") && post.stdout.hasSuffix("upgrade body"), "\(post.stdout)")
        }
    }

    @Test func tlsWithALPN() async throws {
        let tls = try await TestCertificate.make()
        try await LiveServer.with(tls: tls) { live in
            let url = "https://127.0.0.1:\(live.server.port)/echo"
            let h2 = try await Command.curl(["-k", "--http2", "-w", "\\n%{http_version}", "--data-binary", "secret", url])
            #expect(h2.status == 0, "\(h2.stderr)")
            #expect(h2.stdout == "secret\n2", "ALPN chose h2")

            let h1 = try await Command.curl(["-k", "--http1.1", "-i", "--data-binary", "secret", url])
            #expect(h1.status == 0, "\(h1.stderr)")
            #expect(h1.stdout.hasPrefix("HTTP/1.1 200") && h1.stdout.contains("x-tls: yes"))

            let load = try await Command.run("/usr/bin/h2load", ["-n", "200", "-c", "2", "-m", "4", "https://127.0.0.1:\(live.server.port)/health"])
            #expect(load.stdout.contains("Application protocol: h2"), "\(load.stdout)")
            #expect(load.stdout.contains("200 succeeded, 0 failed"), "\(load.stdout)")
        }
    }

    @Test func badTLSFilesAreRefusedWithTheirPath() async throws {
        let files = TLSFiles(certificateChainPath: "/nonexistent/cert.pem", privateKeyPath: "/nonexistent/key.pem")
        await #expect(throws: HTTPFrontendError.self) { try await LiveServer.start(tls: files) }
        do {
            _ = try await LiveServer.start(tls: files)
        } catch let HTTPFrontendError.invalidConfiguration(message) {
            #expect(message.contains("/nonexistent/cert.pem"))
        }
    }
}
