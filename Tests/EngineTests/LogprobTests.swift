import Foundation
import Testing
import Transformer
@testable import Engine

/// Logprobs are the log-softmax of the model's raw logits at each emitted token's position: checked
/// against a plain prefill of the same tokens, and unchanged by speculation, sampling and resumption.
@Suite("Token logprobs")
struct LogprobTests {
    /// Log-softmax (in Double) of the raw logits at every position of `ids`, from a prefill outside the engine.
    static func reference(_ harness: EngineHarness, _ ids: [Int]) -> [[Double]] {
        let model = harness.model
        let sequence = harness.cache.createSequence()
        defer { harness.cache.release(sequence) }
        var rows: [[Double]] = []
        var batch = Batch(capacity: model.maxTokensPerStep)
        var start = 0
        while start < ids.count {
            let end = min(ids.count, start + model.maxTokensPerStep)
            batch.removeAll()
            batch.appendChain(ids[start..<end], sequence: sequence, startPosition: start, logits: .all)
            guard case .ok(let count) = model.forward(batch, cache: harness.cache) else { fatalError("the test cache is too small") }
            harness.cache.commit(sequence, count: end - start)
            for row in 0..<count {
                let logits = model.logits(row: row).map(Double.init)
                let maximum = logits.max()!
                let logSumExp = maximum + log(logits.reduce(0) { $0 + exp($1 - maximum) })
                rows.append(logits.map { $0 - logSumExp })
            }
            start = end
        }
        return rows
    }

    /// Checks every emitted token's logprob and alternatives against the reference rows.
    static func expectMatchesReference(_ harness: EngineHarness, prompt: [Int], outcome: EngineHarness.Outcome,
                                       alternatives: Int, greedy: Bool) {
        #expect(outcome.logprobs.count == outcome.ids.count)
        let rows = reference(harness, prompt + outcome.ids)
        for (index, (token, entry)) in zip(outcome.ids, outcome.logprobs).enumerated() {
            let row = rows[prompt.count - 1 + index]
            #expect(abs(Double(entry.logprob) - row[token]) < 1e-4, "token \(index): \(entry.logprob) vs \(row[token])")
            #expect(entry.logprob <= 0)
            #expect(entry.top.count == alternatives)
            #expect(zip(entry.top, entry.top.dropFirst()).allSatisfy { $0.logprob >= $1.logprob }, "most likely first")
            let best = row.max()!
            if let first = entry.top.first { #expect(abs(Double(first.logprob) - best) < 1e-4) }
            for candidate in entry.top { #expect(abs(Double(candidate.logprob) - row[candidate.token]) < 1e-4) }
            if greedy {
                #expect(entry.top.first?.token == token || alternatives == 0)
                #expect(abs(Double(entry.logprob) - best) < 1e-4, "greedy takes the most likely token")
            }
        }
    }

    @Test("one row: logprob = logit - logsumexp; top-N is a sorted partial selection, ties to the lower id")
    func singleRow() {
        let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 3.0, 0.5, -.infinity]
        let logSumExp = log(logits.reduce(0.0) { $0 + exp(Double($1)) })
        logits.withUnsafeBufferPointer { row in
            let entry = TokenLogprob(row: row, token: 2, alternatives: 3)
            #expect(abs(Double(entry.logprob) - (2.5 - logSumExp)) < 1e-6)
            #expect(entry.top.map(\.token) == [1, 4, 2])
            #expect(abs(Double(entry.top[0].logprob) - (3.0 - logSumExp)) < 1e-6)
            #expect(TokenLogprob(row: row, token: 0, alternatives: 0).top.isEmpty)
            #expect(TokenLogprob(row: row, token: 0, alternatives: 20).top.map(\.token) == [1, 4, 2, 0, 5, 3, 6])
            #expect(TokenLogprob(row: row, token: 6, alternatives: 0).logprob == TokenLogprob.floor, "-inf is reported as the floor")
        }
    }

    @Test("greedy and sampled requests: each token's logprob is the raw log-softmax at its position (before temperature)")
    func matchesPlainPrefill() throws {
        let harness = try EngineHarness()
        let prompts = try harness.benchPrompts(limit: 2).map { Array($0.prefix(60)) }
        let requests = [
            GenerationRequest(id: 1, promptIDs: prompts[0], maxTokens: 32, stopAtEOS: false, logprobs: 5),
            GenerationRequest(id: 2, promptIDs: prompts[1], parameters: SamplingParameters(temperature: 0.7, topK: 4, seed: 7),
                              maxTokens: 32, stopAtEOS: false, logprobs: 2),
            GenerationRequest(id: 3, promptIDs: prompts[1], maxTokens: 8, stopAtEOS: false),
        ]
        let outcomes = harness.run(requests)
        let greedy = try #require(outcomes[1])
        let sampled = try #require(outcomes[2])
        #expect(greedy.ids.count == 32 && sampled.ids.count == 32)
        Self.expectMatchesReference(harness, prompt: prompts[0], outcome: greedy, alternatives: 5, greedy: true)
        Self.expectMatchesReference(harness, prompt: prompts[1], outcome: sampled, alternatives: 2, greedy: false)
        #expect(outcomes[3]?.logprobs.isEmpty == true && outcomes[3]?.ids.count == 8, "no logprobs unless asked")
    }

    @Test("with speculation the logprobs equal those without, token for token", arguments: [
        SpeculationMode.auto(cap: nil), .fixed(7),
    ])
    func speculationLeavesThemUnchanged(mode: SpeculationMode) throws {
        func run(_ mode: SpeculationMode) throws -> (EngineHarness, [UInt64: EngineHarness.Outcome]) {
            let harness = try EngineHarness(configuration: .init(maxTokensPerStep: 256, maxRunning: 4), speculate: true)
            let requests = try harness.benchPrompts(limit: 4).enumerated().map { index, prompt in
                GenerationRequest(id: UInt64(index + 1), promptIDs: Array(prompt.prefix(40 + 23 * index)), maxTokens: 40,
                                  stopAtEOS: false, speculation: mode, logprobs: 3)
            }
            return (harness, harness.run(requests))
        }
        let (_, plain) = try run(.off)
        let (speculative, outcome) = try run(mode)
        #expect(speculative.engine.statistics.speculation.acceptedTokens > 0, "drafts were accepted, so verification rows were used")
        for id in plain.keys.sorted() {
            let expected = try #require(plain[id]), actual = try #require(outcome[id])
            #expect(actual.ids == expected.ids, "request \(id)")
            #expect(actual.logprobs.count == expected.logprobs.count)
            for (index, (a, b)) in zip(actual.logprobs, expected.logprobs).enumerated() {
                #expect(abs(a.logprob - b.logprob) <= 1e-4, "request \(id) token \(index)")
                #expect(zip(a.top, b.top).allSatisfy { abs($0.logprob - $1.logprob) <= 1e-4 }, "request \(id) token \(index)")
            }
        }
    }

    @Test("a resumed request (failover) continues with the logprobs the uninterrupted one has")
    func resumption() throws {
        let harness = try EngineHarness()
        let prompt = Array(try harness.benchPrompts(limit: 1)[0].prefix(50))
        let whole = try #require(harness.run([GenerationRequest(id: 1, promptIDs: prompt, maxTokens: 24, stopAtEOS: false, logprobs: 1)])[1])
        let resumed = try #require(harness.run([GenerationRequest(id: 2, promptIDs: prompt, producedIDs: Array(whole.ids.prefix(10)),
                                                                  maxTokens: 24, stopAtEOS: false, logprobs: 1)])[2])
        #expect(resumed.ids == Array(whole.ids.dropFirst(10)))
        #expect(resumed.logprobs.count == 14)
        for (a, b) in zip(resumed.logprobs, whole.logprobs.dropFirst(10)) {
            #expect(abs(a.logprob - b.logprob) <= 1e-4 && a.top.map(\.token) == b.top.map(\.token))
        }
    }
}
