import Foundation
import ServeBenchmark
import Synchronization
import Testing

/// The benchmark's HTTP client end to end against a small NIO server that streams SSE as the API
/// does (a test double of the server; the run against `specula serve` itself comes with the router).
@Suite("bench serve client", .serialized, .timeLimit(.minutes(1)))
struct ServeClientTests {
    static func prompts(_ texts: [String], maxTokens: Int = 6) -> [PromptFile.Prompt] {
        texts.enumerated().map { PromptFile.Prompt(id: "p\($0.offset)", text: $0.element, maxTokens: maxTokens) }
    }

    static func options(_ server: StreamingTestServer, _ prompts: [PromptFile.Prompt], load: LoadShape,
                        model: String? = nil) throws -> ServeBenchmark.Options {
        ServeBenchmark.Options(target: try BenchTarget(url: server.url), model: model, prompts: prompts, load: load)
    }

    @Test("fixed concurrency keeps N in flight over N keep-alive connections and records every chunk")
    func concurrency() async throws {
        let server = try await StreamingTestServer.start()
        let prompts = Self.prompts((0..<12).map { "prompt \($0)" })
        var options = try Self.options(server, prompts, load: .concurrency(4))
        options.speculation = "off"
        let updates = ProgressLog()
        let result = try await ServeBenchmark.run(options) { updates.append($0) }
        await server.stop()
        #expect(result.model == "test-model", "the first model /v1/models lists")
        #expect(result.records.count == 12 && result.records.allSatisfy { $0.succeeded })
        for record in result.records {
            #expect(record.completionTokens == 6 && record.chunkTimes.count == 6)
            #expect(record.chunkTimes == record.chunkTimes.sorted() && (record.ttft ?? 0) > 0)
            // No bound on the gaps themselves: a client descheduled on a loaded machine reads chunks sent
            // 2 ms apart together (a clean-clone CI run saw 5 of them sum to under 5 ms).
            #expect(record.itls.count == 5)
            #expect(record.speculation == ["drafts": 1, "draft_tokens": 3, "accepted_tokens": 1, "steps": 6])
            #expect(record.finishReason == "length")
        }
        // Never more than N in flight; reaching exactly N depends on scheduling (a loaded machine may
        // finish one stream before the fourth request lands).
        let peak = server.statistics { $0.maxInFlight }
        #expect((2...4).contains(peak))
        // Keep-alive: 13 requests (/v1/models and 12 completions) over no more connections than were
        // ever in flight at once.
        let connections = server.statistics { $0.connections }
        #expect(connections == result.connections && (peak...4).contains(connections))
        let raw = try #require(server.statistics { $0.bodies.first })
        let body = try #require(try JSONSerialization.jsonObject(with: raw) as? [String: Any])
        #expect(body["stream"] as? Bool == true && body["speculation"] as? String == "off" && body["max_tokens"] as? Int == 6)
        #expect((body["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true && body["model"] as? String == "test-model")
        let summary = result.summary
        #expect(summary.completed == 12 && summary.totalOutputTokens == 72 && summary.speculation["draft_tokens"] == 36)
        #expect(summary.requestThroughput > 0 && summary.ttft.count == 12 && summary.itl.count == 60)
        #expect(updates.last?.finished == 12 && updates.last?.outputTokens == 72)
    }

    @Test("Poisson arrivals send at the seeded times, whatever is in flight")
    func rate() async throws {
        let server = try await StreamingTestServer.start(tokenDelay: .milliseconds(20))
        let prompts = Self.prompts((0..<8).map { "prompt \($0)" }, maxTokens: 10)
        let result = try await ServeBenchmark.run(try Self.options(server, prompts, load: .rate(20, seed: 3))) { _ in }
        await server.stop()
        var arrivals = PoissonArrivals(rate: 20, seed: 3)
        let planned = arrivals.offsets(count: 8)
        for (record, offset) in zip(result.records, planned) {
            // Never early; how late depends on the machine's load, so no upper bound is asserted.
            #expect(record.sent >= offset - 0.001, "sent at \(record.sent), planned \(offset)")
        }
        #expect(server.statistics { $0.maxInFlight } > 1, "requests overlap: the open loop does not wait for answers")
    }

    @Test("failed requests are counted with their reasons and the run goes on")
    func failures() async throws {
        let server = try await StreamingTestServer.start()
        let prompts = Self.prompts(["ok", "fail", "error-event", "hang-up", "pairs"])
        let result = try await ServeBenchmark.run(try Self.options(server, prompts, load: .concurrency(2))) { _ in }
        await server.stop()
        let errors = result.records.map(\.error)
        #expect(errors[0] == nil && errors[4] == nil)
        #expect(errors[1] == "HTTP 500: boom")
        #expect(errors[2] == "error event: the worker went away")
        #expect(errors[3] == "the server closed the connection before the response ended")
        #expect(result.records[4].chunkTimes.count == 3 && result.records[4].completionTokens == 6, "two tokens per chunk")
        let summary = result.summary
        #expect(summary.completed == 2 && summary.failed == 3)
        #expect(summary.chunksPerToken == 9.0 / 12, "6 chunks for ok, 3 for pairs")
    }

    @Test("the model is checked against /v1/models; the API key goes in Authorization")
    func modelsAndKeys() async throws {
        let server = try await StreamingTestServer.start(requiredKey: "sk-test")
        let prompts = Self.prompts(["a"])
        await #expect(throws: BenchError.self) {
            _ = try await ServeBenchmark.run(try Self.options(server, prompts, load: .concurrency(1))) { _ in }
        }
        var options = try Self.options(server, prompts, load: .concurrency(1), model: "other")
        options.apiKey = "sk-test"
        do {
            _ = try await ServeBenchmark.run(options) { _ in }
            Issue.record("an unknown model must stop the run")
        } catch let error as BenchError {
            #expect(error.description.contains("--model 'other' is not served") && error.description.contains("test-model"))
        }
        options.model = "test-model"
        let result = try await ServeBenchmark.run(options) { _ in }
        #expect(result.records.allSatisfy { $0.succeeded })
        #expect(server.statistics { $0.authorizations }.last == "Bearer sk-test")
        await server.stop()
        let gone = try Self.options(server, prompts, load: .concurrency(1))
        await #expect(throws: BenchError.self) { _ = try await ServeBenchmark.run(gone) { _ in } }
    }

    @Test("URLs", arguments: [
        ("http://127.0.0.1:8080", "127.0.0.1", 8080, ""), ("http://h:1/v1", "h", 1, ""),
        ("http://h/prefix/v1/completions", "h", 80, "/prefix"), ("http://[::1]:9000/", "::1", 9000, ""),
    ])
    func targets(url: String, host: String, port: Int, base: String) throws {
        let target = try BenchTarget(url: url)
        #expect(target.host == host && target.port == port && target.basePath == base)
    }

    @Test("bad URLs are refused", arguments: ["https://h:1", "h:1", "http://:1", "http://h:99999"])
    func badTargets(url: String) {
        #expect(throws: BenchError.self) { try BenchTarget(url: url) }
    }
}

final class ProgressLog: Sendable {
    private let updates = Mutex<[ServeBenchmark.Progress]>([])
    func append(_ progress: ServeBenchmark.Progress) { updates.withLock { $0.append(progress) } }
    var last: ServeBenchmark.Progress? { updates.withLock { $0.last } }
}
