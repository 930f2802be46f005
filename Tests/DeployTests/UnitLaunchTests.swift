import Foundation
import ServingTestSupport
import SystemdNotify
import Testing
import Wire

/// The installed units' `ExecStart=` lines, started with their environment files and a
/// `NOTIFY_SOCKET` the test binds: `READY=1`, then SIGTERM → `STOPPING=1` and exit 0 once the
/// request in flight has finished.
///
/// The router is not merged yet: a wire-level test router (with the worker token install.sh
/// generated) stands in for `specula-router.service`. Once it lands, start it with
/// `LaunchedUnit(tree: tree, unit: "specula-router.service")` (after setting SPECULA_LISTEN and
/// SPECULA_WORKER_LISTEN in router.env to free ports), wait for its READY=1, point the worker's
/// SPECULA_ROUTER at it, and drive the request over HTTP instead of the wire.
@Suite("units started as systemd starts them", .serialized, .timeLimit(.minutes(3)))
struct UnitLaunchTests {
    /// Test-speed settings, appended to the worker's environment file.
    static let fastWorker: KeyValuePairs<String, String> = [
        "SPECULA_SPECULATE": "off", "SPECULA_THREADS": "1", "SPECULA_KV_CACHE_MB": "16", "SPECULA_MAX_RUNNING": "4",
    ]

    @Test("specula-worker@1: READY=1 once registered, STOPPING=1 on SIGTERM, the request in flight finishes, exit 0")
    func workerUnit() async throws {
        let tree = try InstalledTree()
        defer { tree.remove() }
        let router = try await TestRouter.start(token: Array(try tree.workerToken.utf8))
        try tree.appendEnvironment("worker-1.env", ["SPECULA_ROUTER": "127.0.0.1:\(router.port)"])
        try tree.appendEnvironment("worker-1.env", Self.fastWorker)
        let worker = try LaunchedUnit(tree: tree, unit: "specula-worker@.service", instance: "1")
        defer { worker.kill() }

        let connection = try await router.nextConnection(within: .seconds(60))
        guard case .authenticated(let name) = try await connection.next(within: .seconds(60)) else { throw ProcessError("no handshake") }
        #expect(name == "\(ProcessInfo.processInfo.hostName)-1", "SPECULA_NAME=%H-%i from the unit")
        guard case .register = try await connection.nextMessage(within: .seconds(60)) else { throw ProcessError("no register") }
        try await worker.collect(for: .milliseconds(300))
        #expect(worker.count("STATUS") >= 1 && worker.count("READY") == 0, "not ready before a router accepted it")
        connection.send(.registration(Registration(accepted: true)))
        let ready = try await worker.waitFor("READY")
        #expect(ready["READY"] == "1" && ready["STATUS"] == "serving: registered with 1 of 1 routers")

        // Long enough (800 tokens) that SIGTERM lands while it runs, even on a fast machine.
        connection.send(.assign(Assignment(requestID: 1, prompt: .text("def fibonacci(n):"), sampling: SamplingParameters(temperature: 0),
                                           maxTokens: 800, ignoreEOS: true, speculation: .off)))
        // The test router sends nothing unprompted; keep the worker hearing from it however slow the run.
        let keepAlive = Task {
            for sequence in 1... {
                try await Task.sleep(for: .milliseconds(500))
                connection.send(.heartbeat(Heartbeat(sequence: UInt64(sequence))))
            }
        }
        defer { keepAlive.cancel() }
        var received = 0
        while received == 0 {
            if case .tokens(let event) = try await connection.nextMessage(within: .seconds(60)) { received += event.tokenIDs.count }
        }
        worker.terminate()
        let stopping = try await worker.waitFor("STOPPING")
        #expect(stopping["STATUS"] == "draining: 1 requests in flight")
        var finish: Finish?
        while finish == nil {
            switch try await connection.nextMessage(within: .seconds(60)) {
            case .tokens(let event): received += event.tokenIDs.count
            case .finish(let done): finish = done
            case .credits, .drain: continue
            case let other: throw ProcessError("unexpected \(other) while draining")
            }
        }
        #expect(finish?.reason == .length && received == 800, "the request in flight ran to its end")
        #expect(try await worker.waitForExit(within: .seconds(60)) == 0, "\(worker.log)")
        #expect(worker.count("READY") == 1 && worker.count("STOPPING") == 1)
        await router.stop()
    }
}
