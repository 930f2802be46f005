import Foundation
import ServingTestSupport
import SystemdNotify
import Testing
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// The installed units' `ExecStart=` lines, started with their environment files and a
/// `NOTIFY_SOCKET` the test binds: `READY=1`, then SIGTERM → `STOPPING=1` and exit 0 once the
/// request in flight has finished. The worker is tested against a scripted wire-level router (so
/// the test sees every message of its drain), and the router with a real worker unit and curl.
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

        // The test router sends nothing unprompted; keep the worker hearing from it however slow the run.
        let keepAlive = connection.keepAlive(every: .milliseconds(500))
        defer { keepAlive.cancel() }
        // SIGTERM must land while a request runs, however the machine schedules this test: the router's
        // event loop freezes the worker as its first tokens arrive, everything it sent is read, and only
        // a request known to be unfinished is drained. Should the worker still have made all 1000 tokens
        // first, it is thawed and given another request, up to five.
        var received = 0
        var attempts: UInt64 = 0
        var inFlight = false
        while !inFlight && attempts < 5 {
            attempts += 1
            let pid = worker.mainPID
            connection.whenTokensArrive { _ = kill(pid, SIGSTOP) }
            connection.send(.assign(Assignment(requestID: attempts, prompt: .text("def fibonacci(n):"),
                                               sampling: SamplingParameters(temperature: 0), maxTokens: 1000,
                                               ignoreEOS: true, speculation: .off)))
            received = 0
            while received == 0 {
                if case .tokens(let event) = try await connection.nextMessage(within: .seconds(60)) { received += event.tokenIDs.count }
            }
            let sent = try await connection.readUntilQuiet()
            received += sent.tokens
            inFlight = !sent.finished
            if !inFlight { worker.signal(SIGCONT) }
        }
        #expect(inFlight, "the worker ran each of \(attempts) requests to its end before the test could stop it")
        worker.signal(SIGTERM)
        worker.signal(SIGCONT)
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
        #expect(finish?.reason == .length && received == 1000, "the request in flight ran to its end")
        #expect(try await worker.waitForExit(within: .seconds(60)) == 0, "\(worker.log)")
        #expect(worker.count("READY") == 1 && worker.count("STOPPING") == 1)
        await router.stop()
    }

    @Test("specula-router.service: READY=1 once listening, serves through specula-worker@1, SIGTERM → STOPPING=1, the streams in flight finish, exit 0")
    func routerUnit() async throws {
        let tree = try InstalledTree()
        defer { tree.remove() }
        // Port 0: the system picks free ports, and the READY=1 status line says which.
        try tree.appendEnvironment("router.env", ["SPECULA_LISTEN": "127.0.0.1:0", "SPECULA_WORKER_LISTEN": "127.0.0.1:0"])
        let router = try LaunchedUnit(tree: tree, unit: "specula-router.service")
        defer { router.kill() }
        let ready = try await router.waitFor("READY")
        let (httpPort, workerPort) = try Self.ports(ready["STATUS"] ?? "")
        try tree.appendEnvironment("worker-1.env", ["SPECULA_ROUTER": "127.0.0.1:\(workerPort)"])
        try tree.appendEnvironment("worker-1.env", Self.fastWorker)
        try tree.appendEnvironment("worker-1.env", ["SPECULA_MAX_RUNNING": "1"])
        let worker = try LaunchedUnit(tree: tree, unit: "specula-worker@.service", instance: "1")
        defer { worker.kill() }
        _ = try await worker.waitFor("READY")

        let base = "http://127.0.0.1:\(httpPort)"
        let authorization = ["authorization: Bearer \(try tree.apiKey)"]
        #expect(try Curl.request(base + "/v1/models", method: "GET", maxTime: 30).status == 401, "router.env's SPECULA_API_KEY_FILE is in force")
        let short = try Curl.request(base + "/v1/completions", json: Self.completion(maxTokens: 8), headers: authorization, maxTime: 30)
        #expect(short.status == 200, "\(short.body)")

        // Two long streams on a worker that runs one at a time: the second waits in the router's queue
        // behind the first, so SIGTERM finds work in flight even on a machine fast enough to finish one
        // stream before the signal lands.
        let streams = try (1...2).map { _ in
            try Curl.Background(base + "/v1/completions", json: Self.completion(maxTokens: 800, stream: true), headers: authorization, maxTime: 90)
        }
        defer { streams.forEach { $0.kill() } }
        try await Self.poll("the first streamed tokens") { streams.contains { $0.body.contains("data: ") } }
        // Both in the router (one running, one queued) before the signal: a request that arrives after
        // it is refused (503 draining), and on a loaded machine the second curl can start that late.
        try await Self.poll("both streams in the router") {
            let metrics = (try? Curl.request(base + "/metrics", method: "GET", maxTime: 30))?.body ?? ""
            return PrometheusText.value("specula:num_requests_running", in: metrics)
                + PrometheusText.value("specula:num_requests_waiting", in: metrics) == 2
        }
        router.terminate()
        let stopping = try await router.waitFor("STOPPING")
        let draining = (stopping["STATUS"] ?? "").split(separator: " ").dropFirst().first.flatMap { Int($0) }
        #expect(stopping["STATUS"]?.hasPrefix("draining: ") == true && (1...2).contains(draining ?? 0), "\(stopping)")
        try await Self.poll("/ready to answer 503 while draining") { (try? Curl.request(base + "/ready", method: "GET", maxTime: 30))?.status == 503 }
        let late = try Curl.request(base + "/v1/completions", json: Self.completion(maxTokens: 8), headers: authorization, maxTime: 30)
        #expect(late.status == 503, "no new requests while draining: \(late.body)")
        for stream in streams {
            guard try await stream.process.exitStatus(within: .seconds(60)) != nil else { throw ProcessError("a stream did not end\n\(router.log)") }
            let response = stream.wait()
            let usage = SSEBody.events(response.body).dropLast().last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(response.status == 200 && SSEBody.events(response.body).last == "[DONE]", "\(response.body.suffix(500))")
            #expect((usage?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 800, "the streams in flight ran to their end")
        }
        #expect(try await router.waitForExit(within: .seconds(60)) == 0, "\(router.log)")
        #expect(router.count("READY") == 1 && router.count("STOPPING") == 1)

        worker.terminate()
        #expect(try await worker.waitForExit(within: .seconds(60)) == 0, "\(worker.log)")
    }

    @Test("specula-router.service with a short WatchdogSec: WATCHDOG=1 every half period while it serves, its load as STATUS=")
    func routerWatchdog() async throws {
        let tree = try InstalledTree()
        defer { tree.remove() }
        try tree.appendEnvironment("router.env", ["SPECULA_LISTEN": "127.0.0.1:0", "SPECULA_WORKER_LISTEN": "127.0.0.1:0"])
        try tree.setDirective("specula-router.service", "WatchdogSec", from: "30s", to: "400ms")
        let router = try LaunchedUnit(tree: tree, unit: "specula-router.service")
        defer { router.kill() }
        let launched = ContinuousClock.now
        _ = try await router.waitFor("READY")
        for _ in 1...5 { _ = try await router.waitFor("WATCHDOG", within: .seconds(10)) }
        let elapsed = ContinuousClock.now - launched
        #expect(Double(router.count("WATCHDOG")) <= elapsed / .milliseconds(200) + 2, "\(router.count("WATCHDOG")) pings in \(elapsed)")
        #expect(router.notifications.contains { $0["STATUS"] == "serving: 0 workers, 0 requests in flight" }, "\(router.notifications)")
        router.terminate()
        #expect(try await router.waitForExit(within: .seconds(60)) == 0, "\(router.log)")
        #expect(router.count("READY") == 1 && router.count("STOPPING") == 1)
    }

    /// A greedy completion of the bundled model that runs to `max_tokens` (usage in the last chunk when streamed).
    static func completion(maxTokens: Int, stream: Bool = false) -> String {
        #"{"model": "pycode-6m", "prompt": "def fibonacci(n):", "max_tokens": \#(maxTokens), "temperature": 0, "ignore_eos": true"#
            + (stream ? #", "stream": true, "stream_options": {"include_usage": true}}"# : "}")
    }

    /// `serving: listening on 127.0.0.1:HTTP, workers on 127.0.0.1:WORKERS` → (HTTP, WORKERS).
    static func ports(_ status: String) throws -> (http: Int, workers: Int) {
        let ports = status.split(separator: ",").compactMap { part in part.split(separator: ":").last.flatMap { Int($0) } }
        guard ports.count == 2 else { throw ProcessError("no ports in the READY status '\(status)'") }
        return (ports[0], ports[1])
    }

    /// Checks `condition` every 50 ms until it holds; throws after `timeout`.
    static func poll(_ what: String, within timeout: Duration = .seconds(60), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw ProcessError("timed out after \(timeout) waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
