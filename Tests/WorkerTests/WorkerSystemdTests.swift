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
            "NOTIFY_SOCKET": listener.environmentValue, "WATCHDOG_USEC": "2000000",
        ])
        defer { worker.kill() }
        var stage = "launching"
        do {
            let launched = ContinuousClock.now
            var seen: [NotifyMessage] = []
            func next(within timeout: Duration = .seconds(60)) async throws -> NotifyMessage? {
                let message = try await listener.next(within: timeout)
                if let message { seen.append(message) }
                return message
            }
            func next(_ key: String) async throws -> NotifyMessage {
                while true {
                    guard let message = try await next() else { throw ProcessError("no \(key)= after \(seen); log:\n\(worker.log)") }
                    if message[key] != nil { return message }
                }
            }
            stage = "starting"
            #expect(try await next("STATUS")["STATUS"] == "loading the model")
            #expect(try await next("STATUS")["STATUS"] == "connecting to the router")
            // Registered but not yet accepted: whatever it sent so far holds no READY=1.
            stage = "connecting"
            let connection = try await router.nextConnection()
            guard case .authenticated = try await connection.next(within: .seconds(60)) else { throw ProcessError("no handshake") }
            guard case .register = try await connection.nextMessage(within: .seconds(60)) else { throw ProcessError("no register") }
            let waitUntil = ContinuousClock.now + .milliseconds(300)
            while ContinuousClock.now < waitUntil { _ = try await next(within: waitUntil - ContinuousClock.now) }
            #expect(!seen.contains { $0["READY"] != nil }, "ready only once a router accepted it")
            stage = "waiting for READY"
            connection.send(.registration(Registration(accepted: true)))
            let ready = try await next("READY")
            #expect(ready["READY"] == "1")
            #expect(ready["STATUS"] == "serving: registered with 1 of 1 routers")

            // Pings every second (half of WATCHDOG_USEC), through the event loop and the engine thread:
            // they keep coming, and never faster than the interval.
            stage = "waiting for pings"
            for _ in 1...3 { _ = try await next("WATCHDOG") }
            let pings = seen.filter { $0["WATCHDOG"] != nil }.count
            let elapsed = ContinuousClock.now - launched
            #expect(Double(pings) <= elapsed / .seconds(1) + 2, "\(pings) pings in \(elapsed)")
            #expect(seen.filter { $0["READY"] != nil }.count == 1)

            // SIGTERM with a request in flight: STOPPING=1, the request runs to its end, exit 0.
            stage = "waiting for the first tokens"
            // SIGTERM must land while the request runs, however the machine schedules this test: the
            // worker is frozen by the router's event loop as its first tokens arrive, everything it sent
            // is read, and only a request known to be unfinished is drained. Frozen from this test's
            // task, a loaded parallel run once let the worker make all 1000 tokens first.
            let pid = worker.process.processIdentifier
            connection.whenTokensArrive { _ = kill(pid, SIGSTOP) }
            connection.send(.assign(WorkerProcessTests.assignment(1, maxTokens: 1000, ignoreEOS: true)))
            // The test router sends nothing unprompted; the worker drops a router it has not heard from for
            // 2 s (the test setting), which a slow debug build can take to generate 800 tokens.
            let keepAlive = connection.keepAlive(every: .milliseconds(300))
            defer { keepAlive.cancel() }
            var received = 0
            while received == 0 {
                switch try await connection.nextMessage(within: .seconds(60)) {
                case .tokens(let event): received += event.tokenIDs.count
                case .credits: continue
                case let other: throw ProcessError("expected tokens, got \(other)")
                }
            }
            stage = "reading what the frozen worker sent"
            let sent = try await connection.readUntilQuiet()
            received += sent.tokens
            #expect(!sent.finished, "the worker ran all \(received) tokens before the test could stop it")
            stage = "waiting for STOPPING"
            worker.signal(SIGTERM)
            worker.signal(SIGCONT)
            let stopping = try await next("STOPPING")
            #expect(stopping["STATUS"] == "draining: 1 requests in flight")
            stage = "draining"
            var finish: Finish?
            while finish == nil {
                switch try await connection.nextMessage(within: .seconds(60)) {
                case .finish(let done): finish = done
                case .tokens(let event): received += event.tokenIDs.count
                case .drain, .credits: continue
                case let other: throw ProcessError("unexpected \(other) while draining")
                }
            }
            #expect(finish?.reason == .length && finish?.completionTokens == 1000 && received == 1000)
            stage = "waiting for the exit"
            #expect(try await worker.waitForExit(within: .seconds(60)) == 0)
            #expect(seen.filter { $0["STOPPING"] != nil }.count == 1)
        } catch {
            throw ProcessError("\(error) [\(stage)]; worker log:\n\(worker.log.suffix(4000))")
        }
        await router.stop()
    }
}
