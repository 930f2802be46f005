import Foundation
import ServingTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `specula serve` as a user runs it: real processes, real sockets, curl and the openai SDK.
@Suite("specula serve end to end", .serialized, .timeLimit(.minutes(10)))
struct ServeTests {
    static let prompt = "def fibonacci(n):"
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts")

    static func completion(_ prompt: String, maxTokens: Int, stream: Bool, extra: String = "") -> String {
        let body: [String: Any] = ["model": "pycode-6m", "prompt": prompt, "max_tokens": maxTokens, "temperature": 0, "stream": stream]
        var json = String(decoding: try! JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        if !extra.isEmpty { json = String(json.dropLast()) + ", " + extra + "}" }
        return json
    }

    @Test("curl over HTTP/1.1 and HTTP/2, h2load and the openai SDK get the greedy text of 'specula generate'; Ctrl-C stops everything")
    func curlAndSDK() async throws {
        let serve = try await ServeProcess(["serve", "--port", "0", "--workers", "1", "--threads", "1", "--kv-cache-mb", "32"])
        defer { serve.kill() }
        let reference = try SpeculaChild.reference(prompt: Self.prompt, maxTokens: 48)

        let plain = try Curl.request(serve.base + "/v1/completions", json: Self.completion(Self.prompt, maxTokens: 48, stream: false))
        #expect(plain.status == 200, "\(plain.body)")
        #expect((plain.json["choices"] as? [[String: Any]])?.first?["text"] as? String == reference)
        let streamed = try Curl.request(serve.base + "/v1/completions", json: Self.completion(Self.prompt, maxTokens: 48, stream: true))
        #expect(streamed.status == 200 && SSEBody.text(streamed.body) == reference)
        #expect(SSEBody.events(streamed.body).last == "[DONE]")
        let h2 = try Curl.request(serve.base + "/v1/completions", json: Self.completion(Self.prompt, maxTokens: 48, stream: false),
                                  version: .http2PriorKnowledge)
        #expect(h2.status == 200 && (h2.json["choices"] as? [[String: Any]])?.first?["text"] as? String == reference, "\(h2.body)")
        let h2Chat = try Curl.request(serve.base + "/v1/chat/completions", json: """
            {"model": "pycode-6m", "messages": [{"role": "user", "content": "\(Self.prompt)"}], "max_tokens": 48, "temperature": 0, "stream": true}
            """, version: .http2PriorKnowledge)
        #expect(h2Chat.status == 200 && SSEBody.text(h2Chat.body) == reference)
        let h2Error = try Curl.request(serve.base + "/v1/completions", json: #"{"model": "pycode-6m", "prompt": "x", "n": 3}"#,
                                       version: .http2PriorKnowledge)
        #expect(h2Error.status == 400 && h2Error.error?["param"] as? String == "n")
        try Self.h2loadSmoke(base: serve.base)

        let script = Self.scripts.appendingPathComponent("openai_client.py").path
        let sdk = try Self.python([script, serve.base, Self.prompt, "48"])
        #expect(sdk["completion"] as? String == reference)
        #expect(sdk["completion_stream"] as? String == reference)
        #expect(sdk["chat"] as? String == reference, "a one-message chat is the completion prompt (the bundled model has no template)")
        #expect(sdk["chat_stream"] as? String == reference)
        #expect(sdk["chat_role"] as? String == "assistant")
        #expect(sdk["completion_tokens"] as? Int == sdk["chat_stream_usage"] as? Int)
        #expect(sdk["models"] as? [String] == ["pycode-6m"])
        #expect(sdk["unknown_model"] as? Int == 404)
        #expect((sdk["n2"] as? [Any])?.first as? Int == 400)

        // Logprobs through the SDK: shapes, greedy consistency, streamed == plain, speculation off == auto.
        let logprobs = try Self.python([Self.scripts.appendingPathComponent("openai_logprobs.py").path, serve.base, Self.prompt, "24"])
        let checks = try #require(logprobs["checks"] as? [String: Bool], "\(logprobs)")
        #expect(checks.count >= 20, "\(logprobs)")
        for (name, passed) in checks.sorted(by: { $0.key < $1.key }) { #expect(passed, "\(name): \(logprobs)") }

        let workers = serve.workerPIDs
        #expect(workers.count == 1)
        #expect(try await serve.interrupt() == 0, "SIGINT drains and exits 0:\n\(serve.log.suffix(2000))")
        try await Task.sleep(for: .milliseconds(200))
        #expect(workers.allSatisfy { !ServeProcess.isAlive($0) }, "no worker outlives serve")
    }

    @Test("a config file named by SPECULA_CONFIG sets serve's settings, and its workers start without it (they would refuse serve's keys)")
    func configFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("specula-serve-\(UUID().uuidString.prefix(8)).conf").path
        try "port = 0\nworkers = 1\nthreads = 1\nkv-cache-mb = 32\nspeculate = off\nmax-queue = 3\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let serve = try await ServeProcess(["serve"], environment: ["SPECULA_CONFIG": path], within: .seconds(120))
        defer { serve.kill() }
        let response = try Curl.request(serve.base + "/v1/completions", json: Self.completion(Self.prompt, maxTokens: 8, stream: false))
        #expect(response.status == 200, "\(response.body)")
        #expect(try await serve.interrupt() == 0, "\(serve.log.suffix(2000))")
    }

    @Test("16 streams survive SIGKILL of one of two workers: every text and its logprobs equal the undisturbed run")
    func failover() async throws {
        let serve = try await ServeProcess(["serve", "--port", "0", "--workers", "2", "--threads", "1", "--kv-cache-mb", "64",
                                            "--log-level", "info"])
        defer { serve.kill() }
        let prompts = Self.benchPrompts(16)
        let maxTokens = 320
        // Undisturbed: the same requests, plain, one after another.
        // With logprobs, so a resumed request shows it continues them: one per token, the same values.
        let extra = #""ignore_eos": true, "logprobs": 1"#
        var expected: [String] = []
        var expectedLogprobs: [[Double]] = []
        for prompt in prompts {
            let response = try Curl.request(serve.base + "/v1/completions", json: Self.completion(prompt, maxTokens: maxTokens, stream: false, extra: extra))
            let choice = try #require((response.json["choices"] as? [[String: Any]])?.first, "\(response.body)")
            expected.append(try #require(choice["text"] as? String, "\(response.body)"))
            expectedLogprobs.append(try #require((choice["logprobs"] as? [String: Any])?["token_logprobs"] as? [Double]))
        }
        let streams = try prompts.map { prompt in
            try Curl.Background(serve.base + "/v1/completions", json: Self.completion(prompt, maxTokens: maxTokens, stream: true, extra: extra))
        }
        defer { streams.forEach { $0.kill() } }
        // Mid-stream: every request has started streaming, and some have not finished.
        let deadline = ContinuousClock.now + .seconds(120)
        while !streams.allSatisfy({ $0.body.contains("data: ") }) {
            guard ContinuousClock.now < deadline else { throw TestFailure("the streams did not start") }
            try await Task.sleep(for: .milliseconds(5))
        }
        let victim = try #require(serve.workerPIDs.first)
        kill(victim, SIGKILL)
        let unfinishedAtKill = streams.filter { !$0.body.contains("[DONE]") }.count
        for (index, stream) in streams.enumerated() {
            let response = stream.wait()
            let body = response.body
            #expect(response.status == 200)
            #expect(SSEBody.events(body).last == "[DONE]", "stream \(index) did not complete: \(body.suffix(300))")
            #expect(!body.contains(#""error""#), "stream \(index) saw an error: \(body.suffix(300))")
            #expect(SSEBody.text(body) == expected[index], "stream \(index) differs from the undisturbed run")
            let logprobs = SSEBody.tokenLogprobs(body)
            #expect(logprobs.count == maxTokens && expectedLogprobs[index].count == maxTokens, "stream \(index): one logprob per token")
            #expect(zip(logprobs, expectedLogprobs[index]).allSatisfy { abs($0 - $1) <= 1e-4 }, "stream \(index): logprobs differ")
            #expect(SSEBody.finishReason(body) == "length")
        }
        let metrics = try Curl.request(serve.base + "/metrics", method: "GET")
        let resumed = PrometheusText.value("specula:requests_resumed_total", in: metrics.body)
        #expect(unfinishedAtKill > 0 && resumed > 0, "the kill must hit running requests (unfinished \(unfinishedAtKill), resumed \(resumed))")
        // The supervisor restarts the killed worker.
        let restartDeadline = ContinuousClock.now + .seconds(120)
        while PrometheusText.value("specula:num_workers", in: try Curl.request(serve.base + "/metrics", method: "GET").body) < 2 {
            guard ContinuousClock.now < restartDeadline else { throw TestFailure("the killed worker was not restarted:\n\(serve.log.suffix(3000))") }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await serve.interrupt() == 0)
    }

    /// 24 streamed completions over 2 HTTP/2 connections, 4 streams each at a time: all must succeed.
    static func h2loadSmoke(base: String) throws {
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("h2load-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: body) }
        try Data(completion("def f(x):", maxTokens: 16, stream: true).utf8).write(to: body)
        let (status, data, _) = try runToEnd(URL(fileURLWithPath: "/usr/bin/h2load"), [
            "-n", "24", "-c", "2", "-m", "4", "-d", body.path, "-H", "content-type: application/json", base + "/v1/completions",
        ])
        let text = String(decoding: data, as: UTF8.self)
        #expect(status == 0)
        #expect(text.contains("24 succeeded, 0 failed, 0 errored"), "\(text)")
        #expect(text.contains("status codes: 24 2xx"), "\(text)")
    }

    /// The first `count` prompts of the benchmark fixture (code of varied lengths), cut to 400 characters.
    static func benchPrompts(_ count: Int) -> [String] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/bench")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".jsonl") }.sorted()
        var prompts: [String] = []
        for file in files {
            let text = (try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let prompt = object["prompt"] as? String {
                    prompts.append(String(prompt.prefix(400)))
                }
            }
        }
        while prompts.count < count { prompts.append("def helper_\(prompts.count)(x):") }
        return Array(prompts.prefix(count))
    }

    /// Runs python3 with these arguments; parses the JSON it prints.
    static func python(_ arguments: [String]) throws -> [String: Any] {
        let (status, data, stderr) = try runToEnd(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments)
        guard status == 0, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TestFailure("python3 \(arguments.first ?? "") failed (\(status)); is the openai SDK installed (.ci/deps)? "
                              + String(decoding: stderr, as: UTF8.self).suffix(1500))
        }
        return object
    }
}
