import Foundation
import HTTPFrontend
import Testing

/// `HTTPServer.shutdown(grace:)` on a live server with requests in progress on both protocols.
@Suite("graceful shutdown", .serialized, .timeLimit(.minutes(3)))
struct ShutdownTests {
    @Test func requestsInProgressFinishAndNewConnectionsAreRefused() async throws {
        let live = try await LiveServer.start()
        let url = "\(live.url)/gated"
        let http1 = Task { try await Command.curl(["--http1.1", "-i", url]) }
        let http2 = Task { try await Command.curl(["--http2-prior-knowledge", "-i", url]) }
        try await live.service.waitFor("both requests") { _ in live.service.count { $0 == .started("/gated") } == 2 }

        let shutdown = Task { await live.server.shutdown(grace: .seconds(120)) }
        var refused = false
        for _ in 0..<600 where !refused {
            let probe = try await Command.curl(["--http1.1", "\(live.url)/health"])
            refused = probe.status == 7  // curl: failed to connect
            if !refused { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(refused, "the listener closes at once")

        live.service.openGate()
        let first = try await http1.value
        let second = try await http2.value
        #expect(first.status == 0 && first.stdout.hasSuffix("gate passed"), "\(first)")
        #expect(first.stdout.lowercased().contains("connection: close"))
        #expect(second.status == 0 && second.stdout.hasSuffix("gate passed"), "\(second)")
        await shutdown.value
        try await live.group.shutdownGracefully()
    }

    @Test func afterTheGraceConnectionsCloseAndTheirTasksAreCancelled() async throws {
        let live = try await LiveServer.start()
        let hanging = Task { try await Command.curl(["--http2-prior-knowledge", "\(live.url)/hang"]) }
        try await live.service.waitFor { $0 == .started("/hang") }
        await live.server.shutdown(grace: .milliseconds(200))
        try await live.service.waitFor("cancellation") { $0 == .cancelled("/hang") }
        #expect(try await hanging.value.status != 0, "the client saw its connection end")
        try await live.group.shutdownGracefully()
    }
}
