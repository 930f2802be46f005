import Foundation
import NIOCore
import Testing
import Wire
@testable import Router

/// The API served in process (no HTTP transport) by a router with a real `specula worker` process.
@Suite("Router service with a real worker", .serialized, .timeLimit(.minutes(5)))
struct RouterServiceTests {
    static let prompt = "def fibonacci(n):"

    @Test("completions and chat, plain and streamed, give the greedy text of 'specula generate'")
    func greedyEqualsGenerate() async throws {
        let harness = try await RouterHarness.start()
        defer { Task { await harness.stop() } }
        let reference = try SpeculaChild.reference(prompt: Self.prompt, maxTokens: 40)
        #expect(!reference.isEmpty)

        let plain = await harness.call("POST", "/v1/completions", json: """
            {"model": "pycode-6m", "prompt": "\(Self.prompt)", "max_tokens": 40, "temperature": 0}
            """)
        #expect(plain.status == 200, "\(plain.body)")
        let choice = (plain.json["choices"] as? [[String: Any]])?.first
        #expect(choice?["text"] as? String == reference)
        let usage = plain.json["usage"] as? [String: Int]
        #expect((usage?["prompt_tokens"] ?? 0) > 0 && usage?["completion_tokens"] ?? 0 > 0)
        #expect(plain.json["speculation"] is [String: Any])

        let streamed = await harness.call("POST", "/v1/completions", json: """
            {"model": "pycode-6m", "prompt": "\(Self.prompt)", "max_tokens": 40, "temperature": 0, "stream": true,
             "stream_options": {"include_usage": true}}
            """)
        #expect(streamed.status == 200 && streamed.header("content-type") == "text/event-stream" && streamed.ended)
        #expect(streamed.events.last == "[DONE]")
        #expect(streamed.streamedText == reference)
        let usageChunk = try #require(try JSONSerialization.jsonObject(with: Data(streamed.events.dropLast().last!.utf8)) as? [String: Any])
        #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
        #expect((usageChunk["usage"] as? [String: Int])?["completion_tokens"] == usage?["completion_tokens"])

        let chat = await harness.call("POST", "/v1/chat/completions", json: """
            {"model": "pycode-6m", "messages": [{"role": "user", "content": "\(Self.prompt)"}], "max_tokens": 40, "temperature": 0}
            """)
        #expect(chat.status == 200, "\(chat.body)")
        let message = ((chat.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
        #expect(message?["content"] as? String == reference, "a one-message chat is the completion prompt (no template)")

        let chatStream = await harness.call("POST", "/v1/chat/completions", json: """
            {"model": "pycode-6m", "messages": [{"role": "user", "content": "\(Self.prompt)"}], "max_tokens": 40, "temperature": 0,
             "stream": true}
            """)
        #expect(chatStream.streamedText == reference)
        #expect(chatStream.events.first?.contains(#""role":"assistant""#) == true)
    }

    @Test("tokenize, detokenize, models, health, ready and metrics")
    func utilityRoutes() async throws {
        let harness = try await RouterHarness.start()
        defer { Task { await harness.stop() } }
        let tokenized = await harness.call("POST", "/tokenize", json: #"{"prompt": "def fibonacci(n):"}"#)
        #expect(tokenized.status == 200, "\(tokenized.body)")
        let tokens = try #require(tokenized.json["tokens"] as? [Int])
        #expect(tokenized.json["count"] as? Int == tokens.count && tokens.first == 0, "BOS first, as generation starts")
        #expect(tokenized.json["max_model_len"] as? Int == 1024)
        let plain = await harness.call("POST", "/tokenize", json: #"{"model": "pycode-6m", "prompt": "def fibonacci(n):", "add_special_tokens": false}"#)
        #expect((plain.json["tokens"] as? [Int]) == Array(tokens.dropFirst()))
        let chat = await harness.call("POST", "/tokenize", json: #"{"messages": [{"role": "user", "content": "def fibonacci(n):"}]}"#)
        #expect((chat.json["tokens"] as? [Int]) == tokens)
        let detokenized = await harness.call("POST", "/detokenize", json: "{\"tokens\": \(Array(tokens.dropFirst()))}")
        #expect(detokenized.json["prompt"] as? String == "def fibonacci(n):")
        let badIDs = await harness.call("POST", "/detokenize", json: #"{"tokens": [999999]}"#)
        #expect(badIDs.status == 400 && (badIDs.error?["message"] as? String)?.contains("outside the vocabulary") == true)
        let unknown = await harness.call("POST", "/tokenize", json: #"{"model": "nope", "prompt": "x"}"#)
        #expect(unknown.status == 404)

        let models = await harness.call("GET", "/v1/models")
        let data = try #require(models.json["data"] as? [[String: Any]])
        #expect(data.map { $0["id"] as? String } == ["pycode-6m"] && data.first?["max_model_len"] as? Int == 1024)
        #expect(await harness.call("GET", "/v1/models/pycode-6m").json["id"] as? String == "pycode-6m")
        #expect(await harness.call("GET", "/v1/models/other").status == 404)
        #expect(await harness.call("GET", "/health").status == 200)
        let ready = await harness.call("GET", "/ready")
        #expect(ready.status == 200 && (ready.json["models"] as? [String: Int]) == ["pycode-6m": 1])

        _ = await harness.call("POST", "/v1/completions", json: #"{"model": "pycode-6m", "prompt": "x", "max_tokens": 5, "ignore_eos": true}"#)
        let metrics = await harness.call("GET", "/metrics")
        #expect(metrics.header("content-type")?.hasPrefix("text/plain") == true)
        #expect(metrics.body.contains("specula:generation_tokens_total 5"))
        #expect(metrics.body.contains(#"specula:request_success_total{finished_reason="length"} 1"#))
        #expect(metrics.body.contains("specula:num_workers 1"))
    }

    @Test("errors: unknown route 404, wrong method 405, unknown model 404, max_tokens over the limit and refused prompts 400")
    func errors() async throws {
        let harness = try await RouterHarness.start()
        defer { Task { await harness.stop() } }
        let route = await harness.call("GET", "/v2/nothing")
        #expect(route.status == 404 && route.error?["code"] as? String == "route_not_found")
        let method = await harness.call("GET", "/v1/completions")
        #expect(method.status == 405)
        let model = await harness.call("POST", "/v1/completions", json: #"{"model": "gpt-4", "prompt": "x"}"#)
        #expect(model.status == 404 && model.error?["code"] as? String == "model_not_found" && model.error?["param"] as? String == "model")
        let long = await harness.call("POST", "/v1/completions", json: #"{"model": "pycode-6m", "prompt": "x", "max_tokens": 100000}"#)
        #expect(long.status == 400 && long.error?["param"] as? String == "max_tokens")
        let ids = Array(repeating: 5, count: 1100)
        let refused = await harness.call("POST", "/v1/completions", json: "{\"model\": \"pycode-6m\", \"prompt\": \(ids), \"stream\": true}")
        #expect(refused.status == 400, "a prompt the worker refuses gets its status even when streamed")
        #expect((refused.error?["message"] as? String)?.contains("1100 tokens") == true)
        let invalid = await harness.call("POST", "/v1/chat/completions", json: #"{"model": "pycode-6m", "messages": [], "n": 1}"#)
        #expect(invalid.status == 400 && invalid.error?["param"] as? String == "messages")
    }

    @Test("API keys guard /v1 and tokenization routes, not health")
    func apiKeys() async throws {
        let harness = try await RouterHarness.start(apiKeys: ["sk-test-1", "sk-test-2"])
        defer { Task { await harness.stop() } }
        #expect(await harness.call("GET", "/v1/models").status == 401)
        #expect(await harness.call("GET", "/v1/models", headers: [("Authorization", "Bearer wrong")]).status == 401)
        #expect(await harness.call("GET", "/v1/models", headers: [("Authorization", "Bearer sk-test-2")]).status == 200)
        #expect(await harness.call("POST", "/tokenize", json: #"{"prompt": "x"}"#).status == 401)
        #expect(await harness.call("GET", "/health").status == 200)
        #expect(await harness.call("GET", "/metrics").status == 200)
    }

    @Test("a full queue answers 429, a deadline passed in the queue 408, a running one finishes as timeout")
    func backpressureAndDeadlines() async throws {
        let harness = try await RouterHarness.start(maxQueue: 1)
        defer { Task { await harness.stop() } }
        func longJob(timeout: TimeAmount = .seconds(120)) -> GenerationJob {
            GenerationJob(model: "pycode-6m", assignment: Assignment(requestID: 0, prompt: .text("import os"), sampling: SamplingParameters(temperature: 0),
                                                                     maxTokens: 0, ignoreEOS: true, speculation: .off),
                          maxTokens: 1000, timeout: timeout)
        }
        var running: [UInt64] = []
        for _ in 0..<4 {  // the worker's 4 credits
            running.append(try await harness.router.submit(longJob()).id)
            // Credits reach the router asynchronously: each job must leave the queue (bound 1) before the next.
            try await Self.waitUntilQueueEmpty(harness)
        }
        let queued = try await harness.router.submit(longJob(timeout: .milliseconds(300)))
        let full = await harness.call("POST", "/v1/completions", json: #"{"model": "pycode-6m", "prompt": "x"}"#)
        #expect(full.status == 429 && full.error?["code"] as? String == "queue_full")
        var queuedEvents: [RequestEvent] = []
        while let batch = await queued.events.next() { queuedEvents += batch }
        guard case .failed(let error)? = queuedEvents.last else { Issue.record("expected a failure, got \(queuedEvents)"); return }
        #expect(error.status == 408)
        for id in running { harness.router.cancel(id) }

        let timed = await harness.call("POST", "/v1/completions", json: """
            {"model": "pycode-6m", "prompt": "import os", "max_tokens": 1000, "ignore_eos": true, "stream": true, "timeout": 0.5}
            """)
        #expect(timed.status == 200)
        #expect(timed.events.contains { $0.contains(#""finish_reason":"timeout""#) }, "\(timed.events.suffix(3))")
    }

    @Test("a client that goes away has its request cancelled on the worker")
    func clientGone() async throws {
        let harness = try await RouterHarness.start()
        defer { Task { await harness.stop() } }
        let body = #"{"model": "pycode-6m", "prompt": "import os", "max_tokens": 1000, "ignore_eos": true, "stream": true}"#
        let writer = await harness.call("POST", "/v1/completions", json: body, writer: RecordingWriter(failAfterChunks: 3))
        #expect(writer.chunks.count == 3 && !writer.ended)
        let task = Task { await harness.call("POST", "/v1/completions", json: body) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        _ = await task.value
        try await Self.waitUntilIdle(harness)
        let metrics = await harness.call("GET", "/metrics").body
        #expect(!metrics.contains(#"finished_reason="length"} 1"#), "neither request ran to its end")
    }

    static func waitUntilQueueEmpty(_ harness: RouterHarness) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await harness.router.loop.submit({ harness.router.state.queue.count }).get() > 0 {
            guard ContinuousClock.now < deadline else { throw TestFailure("a request still queued after 60 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func waitUntilIdle(_ harness: RouterHarness) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while try await harness.router.loop.submit({ harness.router.state.inFlight }).get() > 0 {
            guard ContinuousClock.now < deadline else { throw TestFailure("requests still in flight after 60 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
