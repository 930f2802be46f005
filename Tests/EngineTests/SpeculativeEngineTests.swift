import Engine
import Foundation
import Testing

/// Speculation must not change what is generated: greedy output is identical, sampled output has the
/// same distribution.
@Suite("Speculative decoding in the engine")
struct SpeculativeEngineTests {
    func requests(_ harness: EngineHarness, count: Int, speculation: SpeculationMode, promptStep: Int = 23,
                  lengthStep: Int = 7, baseTokens: Int = 24) throws -> [GenerationRequest] {
        try harness.benchPrompts(limit: count).enumerated().map { index, prompt in
            GenerationRequest(id: UInt64(index + 1), promptIDs: Array(prompt.prefix(40 + promptStep * index)),
                              maxTokens: baseTokens + lengthStep * index, stopAtEOS: false, speculation: speculation)
        }
    }

    @Test("greedy with speculation equals greedy without, for every batch size and mode",
          arguments: [(1, SpeculationMode.fixed(7)), (3, .fixed(15)), (6, .auto(cap: nil)), (6, .fixed(3))])
    func greedyIsLossless(batch: Int, mode: SpeculationMode) throws {
        let plain = try EngineHarness(configuration: .init(maxTokensPerStep: 256, maxRunning: batch))
        let expected = plain.run(try requests(plain, count: 6, speculation: .off))
        let speculative = try EngineHarness(configuration: .init(maxTokensPerStep: 256, maxRunning: batch), speculate: true)
        let outcome = speculative.run(try requests(speculative, count: 6, speculation: mode))
        for id in expected.keys.sorted() {
            #expect(outcome[id]?.ids == expected[id]?.ids, "request \(id)")
        }
        let counts = speculative.engine.statistics.speculation
        #expect(counts.draftTokens > 0)
        #expect(counts.acceptedTokens > 0)
        #expect(counts.meanAcceptedLength > 1)
        #expect(speculative.cache.freeBlockCount == speculative.cache.blockCount)
    }

    /// Requests draft on every thread of the compute pool at once; each must get the tree it would get
    /// drafted alone on one thread, so the same drafts are verified and accepted.
    @Test("drafting spread over the pool's threads drafts what one thread does")
    func parallelDraftingDraftsAsOneThread() throws {
        func run(threads: Int) throws -> (EngineHarness, [UInt64: EngineHarness.Outcome]) {
            let harness = try EngineHarness(configuration: .init(maxTokensPerStep: 256, maxRunning: 6), speculate: true,
                                            threads: threads)
            return (harness, harness.run(try requests(harness, count: 6, speculation: .fixed(9))))
        }
        let (serial, alone) = try run(threads: 1)
        let (parallel, together) = try run(threads: 2)
        for id in alone.keys.sorted() {
            #expect(together[id]?.ids == alone[id]?.ids, "request \(id)")
            #expect(together[id]?.speculation == alone[id]?.speculation, "request \(id)")
        }
        let counts = parallel.engine.statistics.speculation
        #expect(counts == serial.engine.statistics.speculation)
        #expect(counts.drafts > 6 && counts.acceptedTokens > 0)
    }

    @Test("a cache too small for the drafts falls back and preempts without changing greedy outputs")
    func smallCache() throws {
        let plain = try EngineHarness(configuration: .init(maxTokensPerStep: 128, maxRunning: 5))
        // Each request fits the 160-token cache alone (120 tokens); two together do not.
        let expected = plain.run(try requests(plain, count: 5, speculation: .off, promptStep: 0, lengthStep: 0, baseTokens: 80))
        let speculative = try EngineHarness(kvCacheMB: 1, configuration: .init(maxTokensPerStep: 128, maxRunning: 5), speculate: true)
        let outcome = speculative.run(try requests(speculative, count: 5, speculation: .fixed(15), promptStep: 0, lengthStep: 0,
                                                   baseTokens: 80))
        #expect(speculative.engine.statistics.preemptions > 0)
        for id in expected.keys.sorted() {
            #expect(outcome[id]?.ids == expected[id]?.ids, "request \(id)")
        }
    }

    /// Two-sample chi-square over (first, second, third) generated tokens of many seeded requests.
    @Test("sampling with speculation has the distribution of sampling without it")
    func samplingIsExact() throws {
        let runs = 300
        func histogram(_ mode: SpeculationMode, seedBase: UInt64) throws -> [[Int]: Int] {
            let harness = try EngineHarness(configuration: .init(maxTokensPerStep: 256, maxRunning: 32), speculate: true)
            let prompt = harness.tokenizer.promptIDs("    def __init__(self, name):\n        self.name = name\n\n    def __repr__(self):\n        return")
            let requests = (0..<runs).map { index in
                GenerationRequest(id: UInt64(index + 1), promptIDs: prompt,
                                  parameters: SamplingParameters(temperature: 1, topK: 3, seed: seedBase + UInt64(index)),
                                  maxTokens: 3, stopAtEOS: false, speculation: mode)
            }
            let outcomes = harness.run(requests)
            if mode != .off {
                #expect(harness.engine.statistics.speculation.draftTokens > 0)
            }
            var counts: [[Int]: Int] = [:]
            for outcome in outcomes.values { counts[outcome.ids, default: 0] += 1 }
            return counts
        }
        let plain = try histogram(.off, seedBase: 1_000)
        let speculative = try histogram(.fixed(6), seedBase: 50_000)
        let categories = Set(plain.keys).union(speculative.keys)
        // Pool rare outcomes so every cell has a usable count.
        var statistic = 0.0
        var cells = 0
        var rareA = 0, rareB = 0
        for key in categories {
            let a = plain[key] ?? 0, b = speculative[key] ?? 0
            if a + b < 10 {
                rareA += a
                rareB += b
                continue
            }
            statistic += Double((a - b) * (a - b)) / Double(a + b)
            cells += 1
        }
        if rareA + rareB > 0 {
            statistic += Double((rareA - rareB) * (rareA - rareB)) / Double(rareA + rareB)
            cells += 1
        }
        #expect(cells >= 3, "the prompt must leave several likely outcomes")
        // Chi-square critical values at p = 0.001 for 2...24 degrees of freedom.
        let critical: [Double] = [13.8, 16.3, 18.5, 20.5, 22.5, 24.3, 26.1, 27.9, 29.6, 31.3, 32.9, 34.5, 36.1,
                                  37.7, 39.3, 40.8, 42.3, 43.8, 45.3, 46.8, 48.3, 49.7, 51.2]
        let degrees = max(cells - 1, 2)
        let limit = degrees - 2 < critical.count ? critical[degrees - 2] : Double(degrees) * 2
        #expect(statistic < limit, "chi-square \(statistic) with \(degrees) degrees of freedom")
    }
}
