import Engine
import Foundation
import Testing

@Suite("Continuous batching engine")
struct InferenceEngineTests {
    @Test("greedy through the engine reproduces the reference continuation")
    func referenceGreedy() throws {
        let harness = try EngineHarness()
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf:
            EngineHarness.fixtures.appendingPathComponent("pycode-6m/reference/prompt-short.json"))) as? [String: Any]
        let prompt = try #require(reference?["input_ids"] as? [Int])
        let greedy = try #require((reference?["greedy"] as? [String: Any])?["ids"] as? [Int])
        let outcome = harness.run([GenerationRequest(id: 1, promptIDs: prompt, maxTokens: greedy.count, stopAtEOS: false)])[1]
        #expect(outcome?.ids == greedy)
        #expect(outcome?.reason == .length)
        #expect(outcome?.usage == Usage(promptTokens: prompt.count, completionTokens: greedy.count))
    }

    /// Each request run alone, for comparison.
    func solo(_ requests: [GenerationRequest]) throws -> [UInt64: EngineHarness.Outcome] {
        var outcomes: [UInt64: EngineHarness.Outcome] = [:]
        for request in requests {
            outcomes[request.id] = try EngineHarness().run([request])[request.id]
        }
        return outcomes
    }

    func mixedRequests(_ harness: EngineHarness, count: Int) throws -> [GenerationRequest] {
        try harness.benchPrompts(limit: count).enumerated().map { index, prompt in
            GenerationRequest(id: UInt64(index + 1), promptIDs: Array(prompt.prefix(30 + 17 * index)),
                              maxTokens: 12 + 5 * index, stopAtEOS: false)
        }
    }

    @Test("requests batched with chunked prefill give the tokens each gives alone")
    func batchEqualsSolo() throws {
        let harness = try EngineHarness(configuration: .init(maxTokensPerStep: 24, maxRunning: 3))
        let requests = try mixedRequests(harness, count: 6)
        let together = harness.run(requests)
        let alone = try solo(requests)
        for request in requests {
            #expect(together[request.id]?.ids == alone[request.id]?.ids, "request \(request.id)")
            #expect(together[request.id]?.ids.count == request.maxTokens)
        }
    }

    @Test("a cache too small for every request preempts and recomputes without changing outputs")
    func preemption() throws {
        let harness = try EngineHarness(kvCacheMB: 1, configuration: .init(maxTokensPerStep: 64, maxRunning: 8))
        let requests = try harness.benchPrompts(limit: 5).enumerated().map { index, prompt in
            GenerationRequest(id: UInt64(index + 1), promptIDs: Array(prompt.prefix(40)), maxTokens: 60, stopAtEOS: false)
        }
        let together = harness.run(requests)
        #expect(harness.engine.statistics.preemptions > 0)
        let alone = try solo(requests)
        for request in requests {
            #expect(together[request.id]?.ids == alone[request.id]?.ids, "request \(request.id)")
        }
        #expect(harness.cache.freeBlockCount == harness.cache.blockCount)
    }

    @Test("a stop string ends the request and is not emitted, also across tokens")
    func stopString() throws {
        let harness = try EngineHarness()
        let prompt = harness.tokenizer.promptIDs("import os\n\n\ndef read_lines(path):\n")
        let free = harness.run([GenerationRequest(id: 1, promptIDs: prompt, maxTokens: 40, stopAtEOS: false)])[1]!
        // Stop on a string that appears in the free-running text, spanning a token boundary.
        let text = free.text
        let stop = String(text.dropFirst(5).prefix(6))
        let stopped = harness.run([GenerationRequest(id: 2, promptIDs: prompt, maxTokens: 40, stopStrings: [stop], stopAtEOS: false)])[2]!
        #expect(stopped.reason == .stop)
        #expect(stopped.text == String(text[..<text.range(of: stop)!.lowerBound]))
    }

    @Test("cancellation finishes the request and frees its cache")
    func cancellation() throws {
        let harness = try EngineHarness()
        let prompt = try harness.benchPrompts(limit: 1)[0]
        let outcome = harness.run([GenerationRequest(id: 7, promptIDs: prompt, maxTokens: 500, stopAtEOS: false)],
                                  cancelAfterSteps: [7: 5])[7]!
        #expect(outcome.reason == .cancelled)
        #expect(outcome.ids.count < 500)
        #expect(harness.cache.freeBlockCount == harness.cache.blockCount)
    }

    @Test("a seeded sampled request gives the same tokens whatever shares its batch")
    func seededSamplingIsBatchInvariant() throws {
        let harness = try EngineHarness(configuration: .init(maxTokensPerStep: 64, maxRunning: 4))
        var requests = try mixedRequests(harness, count: 4)
        requests[0].parameters = SamplingParameters(temperature: 0.9, topP: 0.95, seed: 42)
        requests[0].maxTokens = 40
        let together = harness.run(requests)
        let alone = try solo([requests[0]])
        #expect(together[requests[0].id]?.ids == alone[requests[0].id]?.ids)
    }

    @Test("requests that cannot run finish at once with a reason", arguments: [
        GenerationRequest(id: 1, promptIDs: [], maxTokens: 4),
        GenerationRequest(id: 2, promptIDs: [0, 99_999], maxTokens: 4),
        GenerationRequest(id: 3, promptIDs: Array(repeating: 5, count: 5000), maxTokens: 4),
        GenerationRequest(id: 4, promptIDs: [0, 5], parameters: SamplingParameters(temperature: -1), maxTokens: 4),
    ])
    func rejected(request: GenerationRequest) throws {
        let harness = try EngineHarness()
        let outcome = harness.run([request])[request.id]
        #expect(outcome?.reason == .error)
        #expect(outcome?.message?.isEmpty == false)
    }

    @Test("EOS ends generation unless ignored")
    func endOfSequence() throws {
        let harness = try EngineHarness()
        // Bias the EOS token so the model emits it at once.
        var request = GenerationRequest(id: 1, promptIDs: [0, 520], parameters: SamplingParameters(temperature: 0, logitBias: [0: 100]), maxTokens: 5)
        #expect(harness.run([request])[1]?.reason == .stop)
        #expect(harness.run([request])[1]?.ids == [])
        request.stopAtEOS = false
        #expect(harness.run([request])[1]?.ids == [0, 0, 0, 0, 0])
    }
}
