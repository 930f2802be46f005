import Foundation
import ServingTestSupport
import SystemdNotify
import Testing
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// A real worker process started as systemd would start a `Type=notify` service: `NOTIFY_SOCKET`
/// (a socket the test binds), `WATCHDOG_USEC`.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct WorkerSystemdTests {
    @Test func readyOnceRegisteredWatchdogPingsAndStoppingOnSigterm() async throws {
        let listener = try NotifyListener(address: NotifySocketAddress("@specula-worker-test-\(UUID().uuidString.prefix(8))"))
        defer { listener.close() }
        let router = try await TestRouter.start(token: WorkerProcess.token)
        let worker = try WorkerProcess(routers: [router.port], environment: [
            "NOTIFY_SOCKET": listener.environmentValue, "WATCHDOG_USEC": "400000",
        ])
        defer { worker.kill() }
        var seen: [NotifyMessage] = []
        func next() async throws -> NotifyMessage {
            guard let message = try await listener.next(within: .seconds(30)) else {
                throw ProcessError("no notification after \(seen); log:\n\(worker.log)")
            }
            seen.append(message)
            return message
        }
        #expect(try await next()["STATUS"] == "loading the model")
        let connection = try await router.nextConnection()
        #expect(try await next()["STATUS"] == "connecting to the router")
        // Not ready before a router accepted it (pings may come already).
        _ = try await connection.acceptRegistration()
        var ready: NotifyMessage?
        while ready == nil {
            let message = try await next()
            #expect(message["STATUS"] != "connecting to the router" || message["READY"] == nil)
            if message["READY"] != nil { ready = message }
        }
        #expect(ready?["READY"] == "1")
        #expect(ready?["STATUS"] == "serving: registered with 1 of 1 routers")
        #expect(seen.filter { $0["READY"] != nil }.count == 1)

        // Pings every 200 ms (half of WATCHDOG_USEC), through the event loop and the engine thread.
        let pingStart = ContinuousClock.now
        var pings = 0
        while ContinuousClock.now - pingStart < .milliseconds(1500) {
            if try await next()["WATCHDOG"] == "1" { pings += 1 }
        }
        #expect((3...10).contains(pings), "about one ping per 200 ms; saw \(pings) in 1.5 s")

        // SIGTERM with a request in flight: STOPPING=1, the request runs to its end, exit 0.
        // Long enough (800 tokens) that SIGTERM lands while it runs, even on a fast machine.
        connection.send(.assign(WorkerProcessTests.assignment(1, maxTokens: 800, ignoreEOS: true)))
        guard case .tokens = try await connection.nextMessage() else { throw ProcessError("expected tokens") }
        worker.signal(SIGTERM)
        var stopping: NotifyMessage?
        while stopping == nil {
            let message = try await next()
            if message["STOPPING"] != nil { stopping = message }
        }
        #expect(stopping?["STATUS"] == "draining: 1 requests in flight")
        var finish: Finish?
        while finish == nil {
            switch try await connection.nextMessage() {
            case .finish(let done): finish = done
            case .tokens, .drain: continue
            case let other: throw ProcessError("unexpected \(other) while draining")
            }
        }
        #expect(finish?.reason == .length && finish?.completionTokens == 800)
        #expect(try await worker.waitForExit(within: .seconds(20)) == 0)
        #expect(seen.filter { $0["STOPPING"] != nil }.count == 1)
        await router.stop()
    }
}
