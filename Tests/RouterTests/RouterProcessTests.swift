import Foundation
import ServingTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `specula router` and `specula worker` as separate processes: every kind of bad request over
/// HTTP, a lost worker, and a router restart the worker survives.
@Suite("specula router and worker processes", .serialized, .timeLimit(.minutes(10)))
struct RouterProcessTests {
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func keyFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        try "# test keys\nsk-one\nsk-two\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func router(workerPort: Int, heartbeatTimeoutMs: Int = 3000, extra: [String] = []) async throws -> ServeProcess {
        try await ServeProcess(["router", "--listen", "127.0.0.1:0", "--worker-listen", "127.0.0.1:\(workerPort)",
                                "--heartbeat-interval-ms", "200", "--heartbeat-timeout-ms", "\(heartbeatTimeoutMs)"] + extra,
                               readyLine: "listening for clients")
    }

    static func waitFor(_ what: String, within timeout: Duration = .seconds(120), _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try !condition() {
            guard ContinuousClock.now < deadline else { throw TestFailure("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test("bad requests get their status and an OpenAI error body: 400, 401, 404, 405, 408, 413, 429, 503")
    func errorStatuses() async throws {
        let workerPort = try Self.freePort()
        let keys = try Self.keyFile()
        defer { try? FileManager.default.removeItem(atPath: keys) }
        // The router must hold the stopped worker through the queue checks below, however long a loaded
        // machine takes over them (30 s once, with every suite in parallel on 2 cores): its heartbeat
        // timeout is an hour, and the worker's connection is lost by cutting it at the relay instead.
        // The silence path has its own test below.
        let router = try await Self.router(workerPort: workerPort, heartbeatTimeoutMs: 3_600_000,
                                           extra: ["--api-key-file", keys, "--max-queue", "1", "--max-body-bytes", "4096"])
        defer { router.kill() }
        let relay = try await TCPRelay.start(to: workerPort)
        defer { Task { await relay.stop() } }
        let worker = try SpeculaChild.worker(routerPort: relay.port, name: "errors-worker", extra: ["--max-running", "1"])
        defer { worker.kill() }
        let auth = ["Authorization: Bearer sk-two"]
        let url = router.base + "/v1/completions"
        try await Self.waitFor("the worker") { try Curl.request(router.base + "/ready", method: "GET").status == 200 }

        func expectError(_ response: Curl.Response, _ status: Int, _ type: String, _ comment: Comment) {
            #expect(response.status == status, comment)
            #expect(response.error?["type"] as? String == type, comment)
            #expect((response.error?["message"] as? String)?.isEmpty == false, comment)
            #expect(response.error?.keys.sorted() == ["code", "message", "param", "type"], comment)
        }
        expectError(try Curl.request(url, json: #"{"model": "pycode-6m", "prompt": "x"}"#), 401, "authentication_error", "no key")
        expectError(try Curl.request(url, json: #"{"model": "pycode-6m", "prompt": "x"}"#, headers: ["Authorization: Bearer sk-three"]),
                    401, "authentication_error", "wrong key")
        expectError(try Curl.request(url, json: #"{"model": "pycode-6m", "prompt": "x""#, headers: auth), 400, "invalid_request_error", "bad JSON")
        let range = try Curl.request(url, json: #"{"model": "pycode-6m", "prompt": "x", "top_p": 5}"#, headers: auth)
        expectError(range, 400, "invalid_request_error", "top_p out of range")
        #expect(range.error?["param"] as? String == "top_p")
        let logprobs = try Curl.request(url, json: #"{"model": "pycode-6m", "prompt": "x", "logprobs": 21}"#, headers: auth)
        expectError(logprobs, 400, "invalid_request_error", "logprobs out of range")
        #expect(logprobs.error?["param"] as? String == "logprobs")
        expectError(try Curl.request(url, json: #"{"model": "gpt-4", "prompt": "x"}"#, headers: auth), 404, "not_found_error", "unknown model")
        expectError(try Curl.request(router.base + "/v1/embeddings", json: "{}", headers: auth), 404, "not_found_error", "unknown route")
        expectError(try Curl.request(url, method: "GET", headers: auth), 405, "invalid_request_error", "wrong method")
        let big = String(repeating: "x", count: 5000)
        expectError(try Curl.request(url, json: #"{"model": "pycode-6m", "prompt": "\#(big)"}"#, headers: auth), 413, "invalid_request_error", "body too large")

        // A stopped worker holds its one request forever; the next waits in the queue (bound 1).
        worker.signal(SIGSTOP)
        let metricsURL = router.base + "/metrics"
        func metric(_ name: String) throws -> Double { PrometheusText.value(name, in: try Curl.request(metricsURL, method: "GET").body) }
        let stuck = try Curl.Background(url, json: #"{"model": "pycode-6m", "prompt": "import os", "max_tokens": 20, "ignore_eos": true}"#, headers: auth)
        defer { stuck.kill() }
        try await Self.waitFor("the first request to be assigned") { try metric("specula:num_requests_running") == 1 }
        // Nothing here races a clock: the waiting request's deadline is far off while the queue is full,
        // and the one that must time out is sent once the queue has room, behind a worker that cannot
        // take it. (Once, with 10 s deadlines and a 30 s heartbeat timeout, a run loaded by every suite
        // in parallel took 30 s to reach the 429 check, and met no worker.)
        let waiting = try Curl.Background(url, json: #"{"model": "pycode-6m", "prompt": "x", "timeout": 600}"#, headers: auth)
        defer { waiting.kill() }
        try await Self.waitFor("the second request to wait") { try metric("specula:num_requests_waiting") == 1 }
        expectError(try Curl.request(url, json: #"{"model": "pycode-6m", "prompt": "x"}"#, headers: auth), 429, "rate_limit_error",
                    "queue full")
        waiting.kill()
        try await Self.waitFor("the departed client's request to leave the queue") { try metric("specula:num_requests_waiting") == 0 }
        expectError(try Curl.request(url, json: #"{"model": "pycode-6m", "prompt": "x", "timeout": 1}"#, headers: auth),
                    408, "timeout_error", "deadline passed in the queue")

        // Its connection lost: the worker is dropped; its request waits for another.
        relay.cut()
        try await Self.waitFor("the cut-off worker to be dropped") { try metric("specula:num_workers") == 0 }
        let noWorker = try Curl.request(url, json: #"{"model": "pycode-6m", "prompt": "x"}"#, headers: auth)
        expectError(noWorker, 503, "service_unavailable_error", "no worker")
        #expect(try Curl.request(router.base + "/ready", method: "GET").status == 503)

        // It wakes up, finds its connection gone, reconnects; the held request resumes and completes.
        worker.signal(SIGCONT)
        let resumed = stuck.wait()
        #expect(resumed.status == 200, "\(resumed.body)")
        #expect((resumed.json["usage"] as? [String: Int])?["completion_tokens"] == 20)
        #expect(try metric("specula:requests_resumed_total") == 1)
    }

    @Test("a worker silent past the heartbeat timeout is dropped, and comes back when it wakes")
    func silentWorker() async throws {
        let workerPort = try Self.freePort()
        let router = try await Self.router(workerPort: workerPort)
        defer { router.kill() }
        let worker = try SpeculaChild.worker(routerPort: workerPort, name: "silent-worker")
        defer { worker.kill() }
        let ready = router.base + "/ready"
        try await Self.waitFor("the worker") { try Curl.request(ready, method: "GET").status == 200 }
        worker.signal(SIGSTOP)
        try await Self.waitFor("the silent worker to be dropped") { try Curl.request(ready, method: "GET").status == 503 }
        worker.signal(SIGCONT)
        try await Self.waitFor("the woken worker to reconnect") { try Curl.request(ready, method: "GET").status == 200 }
        let request = #"{"model": "pycode-6m", "prompt": "def f(x):", "max_tokens": 8, "temperature": 0}"#
        #expect(try Curl.request(router.base + "/v1/completions", json: request).status == 200)
    }

    @Test("a restarted router gets its workers back without restarting them")
    func routerRestart() async throws {
        let workerPort = try Self.freePort()
        var router = try await Self.router(workerPort: workerPort)
        let worker = try SpeculaChild.worker(routerPort: workerPort, name: "restart-worker")
        defer { worker.kill() }
        let request = #"{"model": "pycode-6m", "prompt": "def f(x):", "max_tokens": 8, "temperature": 0}"#
        try await Self.waitFor("the worker") { try Curl.request(router.base + "/ready", method: "GET").status == 200 }
        let before = try Curl.request(router.base + "/v1/completions", json: request)
        #expect(before.status == 200)
        router.child.signal(SIGKILL)
        _ = try await router.child.waitForExit(within: .seconds(30))
        router.kill()
        router = try await Self.router(workerPort: workerPort)
        defer { router.kill() }
        try await Self.waitFor("the worker to reconnect") { try Curl.request(router.base + "/ready", method: "GET").status == 200 }
        let after = try Curl.request(router.base + "/v1/completions", json: request)
        #expect(after.status == 200)
        #expect((after.json["choices"] as? [[String: Any]])?.first?["text"] as? String
                == (before.json["choices"] as? [[String: Any]])?.first?["text"] as? String)
        #expect(worker.process.isRunning)
    }
}
