import Engine
import Testing

/// Measuring the step-cost curve on the bundled model: a curve the policy can use, and a cache left
/// as it was (the long-context sequences stay filled through every pass, then go).
@Suite("Step-cost measurement")
struct StepCostModelTests {
    @Test("a measured curve is positive and never falls, and the cache is left as it was",
          arguments: [0.25, 0])
    func measuredCurve(longStep: Double) throws {
        let harness = try EngineHarness()
        let free = harness.cache.freeBlockCount
        // longStep 0: after the first pass every step runs once, without a warm-up.
        let curve = StepCostModel.measure(model: harness.model, cache: harness.cache, tokenCounts: [1, 4, 16],
                                          repetitions: 1, passes: 2, longContext: 128, longStep: longStep)
        #expect(harness.cache.freeBlockCount == free)
        #expect(curve.tokens == [1, 4, 16])
        #expect(curve.seconds.allSatisfy { $0 > 0 && $0.isFinite })
        #expect(zip(curve.seconds, curve.seconds.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(curve.secondsPerTokenContext >= 0 && curve.secondsPerTokenContext.isFinite)
        #expect(curve.secondsPerSequenceContext >= 0 && curve.secondsPerSequenceContext.isFinite)
    }

    @Test("a small cache still gives a curve, and is left as it was")
    func smallCache() throws {
        let harness = try EngineHarness(kvCacheMB: 1)
        let free = harness.cache.freeBlockCount
        let curve = StepCostModel.measure(model: harness.model, cache: harness.cache, tokenCounts: [1, 4],
                                          repetitions: 1, passes: 1, longContext: 100_000)
        #expect(harness.cache.freeBlockCount == free)
        #expect(curve.seconds.allSatisfy { $0 > 0 && $0.isFinite })
    }
}
