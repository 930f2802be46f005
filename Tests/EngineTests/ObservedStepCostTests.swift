@testable import Engine
import Foundation
import Testing

@Suite struct ObservedStepCostTests {
    /// Steps up to 8 tokens cost what one costs, then grow linearly.
    let curve = StepCostModel(tokens: [1, 8, 16], seconds: [0.010, 0.010, 0.020], secondsPerTokenContext: 0)

    @Test func theCurveHoldsUntilABucketHasEnoughSteps() {
        var costs = ObservedStepCost(curve: curve)
        for _ in 0..<(ObservedStepCost.minimumObservations - 1) { costs.observe(tokens: 8, contextTokens: 0, seconds: 0.015) }
        #expect(costs.cost(tokens: 8) == 0.010)
        costs.observe(tokens: 8, contextTokens: 0, seconds: 0.015)
        #expect(abs(costs.cost(tokens: 8) - 0.015) < 1e-9)
    }

    @Test func anUnvisitedBucketIsNeverPricedAboveTheCurve() {
        var costs = ObservedStepCost(curve: curve)
        for _ in 0..<20 { costs.observe(tokens: 6, contextTokens: 0, seconds: 0.020) }
        // 6 tokens fall in the bucket of the curve point 8 (2..8): all of it is now twice the curve.
        #expect(abs(costs.correction(tokens: 2) - 2) < 1e-9)
        #expect(abs(costs.correction(tokens: 8) - 2) < 1e-9)
        // The others keep the curve: only trying them can show what they cost.
        #expect(costs.correction(tokens: 1) == 1)
        #expect(costs.correction(tokens: 12) == 1)
    }

    @Test func anUnvisitedBucketTakesAFasterNeighboursCorrection() {
        var costs = ObservedStepCost(curve: curve)
        for _ in 0..<20 { costs.observe(tokens: 6, contextTokens: 0, seconds: 0.005) }
        // Steps run at half the curve (it was measured on a busy machine): so would the unvisited ones,
        // and pricing them at the curve would make them look twice what they cost next to these.
        #expect(abs(costs.correction(tokens: 8) - 0.5) < 1e-9)
        #expect(abs(costs.correction(tokens: 1) - 0.5) < 1e-9)
        #expect(abs(costs.correction(tokens: 12) - 0.5) < 1e-9)
        // A visited bucket keeps its own.
        for _ in 0..<20 { costs.observe(tokens: 16, contextTokens: 0, seconds: 0.015) }
        #expect(abs(costs.correction(tokens: 12) - 0.75) < 1e-9)
        #expect(abs(costs.correction(tokens: 8) - 0.5) < 1e-9)
    }

    /// A worker whose curve was measured on a busy machine: a lucky 1-token point, the rest slowed.
    /// Plain steps then run at 3x the curve's 1-token cost; a draft step must still be tried.
    @Test func aBadlyMeasuredCurveDoesNotStopDrafting() {
        let busy = StepCostModel(tokens: [1, 2, 8], seconds: [0.001, 0.003, 0.012], secondsPerTokenContext: 0)
        var costs = ObservedStepCost(curve: busy)
        for _ in 0..<20 { costs.observe(tokens: 1, contextTokens: 0, seconds: 0.003) }
        let counts = BudgetPolicy(costs: costs).allocate(gains: [[0.99, 0.99, 0.99, 0.99]], contexts: [0], draftSeconds: [0],
                                                         plainTokens: 1, baseTokens: 1, baseContext: 0, limit: 4)
        #expect(counts != [0])
    }

    @Test func withoutVisitedBucketsTheCurveHolds() {
        let costs = ObservedStepCost(curve: curve)
        #expect(costs.correction(tokens: 1) == 1)
        #expect(costs.correction(tokens: 100) == 1)
    }

    @Test func oneStalledStepMovesTheEstimateLittle() {
        var costs = ObservedStepCost(curve: curve)
        for _ in 0..<50 { costs.observe(tokens: 1, contextTokens: 0, seconds: 0.010) }
        costs.observe(tokens: 1, contextTokens: 0, seconds: 1.0)  // 100x: a descheduled compute thread
        #expect(costs.correction(tokens: 1)
                < pow(ObservedStepCost.maximumRatio, ObservedStepCost.weight + ObservedStepCost.offsetWeight) + 1e-9)
        #expect(costs.correction(tokens: 1) > 1)
    }

    @Test func theEstimateFollowsTheLoad() {
        var costs = ObservedStepCost(curve: curve)
        for _ in 0..<20 { costs.observe(tokens: 16, contextTokens: 0, seconds: 0.020) }
        for _ in 0..<200 { costs.observe(tokens: 16, contextTokens: 0, seconds: 0.030) }
        #expect(abs(costs.correction(tokens: 16) - 1.5) < 0.01)
    }

    /// A bucket first tried while the machine ran slow is priced at what it costs once the spell is
    /// over. Priced at the spell's cost, it would be used less, so corrected less.
    @Test func aBucketLearnedInASlowSpellDoesNotKeepIt() {
        var costs = ObservedStepCost(curve: curve)
        for _ in 0..<50 { costs.observe(tokens: 1, contextTokens: 0, seconds: 0.010) }
        for _ in 0..<200 { costs.observe(tokens: 1, contextTokens: 0, seconds: 0.020) }  // the machine slows 2x
        // Steps of 8 tokens cost 1.2x what the curve says beyond that.
        for _ in 0..<ObservedStepCost.minimumObservations { costs.observe(tokens: 8, contextTokens: 0, seconds: 0.024) }
        #expect(abs(costs.correction(tokens: 8) - 2.4) < 0.05)
        for _ in 0..<200 { costs.observe(tokens: 1, contextTokens: 0, seconds: 0.010) }  // the spell is over
        #expect(abs(costs.correction(tokens: 1) - 1) < 0.01)
        #expect(abs(costs.correction(tokens: 8) - 1.2) < 0.05)
    }

    /// A step is predicted for the logits rows it computes: steps that want few run below the curve's
    /// all-rows price, and observed as such they leave the all-rows price of their size where it was.
    @Test func aStepIsPredictedForItsLogitsRows() {
        let rows = StepCostModel(tokens: [1, 8, 16], seconds: [0.010, 0.010, 0.020], secondsPerTokenContext: 0,
                                 secondsPerOmittedLogits: 0.0005)
        #expect(abs(rows.cost(tokens: 16, logitRows: 1) - 0.0125) < 1e-12)
        #expect(rows.cost(tokens: 16, logitRows: 16) == rows.cost(tokens: 16))
        var costs = ObservedStepCost(curve: rows)
        for _ in 0..<20 { costs.observe(tokens: 16, logitRows: 1, contextTokens: 0, seconds: 0.0125) }
        #expect(abs(costs.cost(tokens: 16) - 0.020) < 1e-9)
        // Priced as if every row were wanted, the same steps taught that 16 tokens cost 0.625 of the curve.
        var blind = ObservedStepCost(curve: rows)
        for _ in 0..<20 { blind.observe(tokens: 16, contextTokens: 0, seconds: 0.0125) }
        #expect(abs(blind.cost(tokens: 16) - 0.0125) < 1e-9)
    }

    /// Steps that carry prompt chunks learn offsets of their own: chunks at half the curve do not make
    /// decode steps of their size look cheap, but a slow spell seen during prefill is the machine's.
    @Test func promptStepsMoveTheMachineButNotTheDecodePrices() {
        var costs = ObservedStepCost(curve: curve)
        for _ in 0..<20 { costs.observe(tokens: 8, contextTokens: 0, seconds: 0.010) }
        for _ in 0..<20 { costs.observe(tokens: 16, contextTokens: 0, seconds: 0.010, prompt: true) }
        #expect(abs(costs.correction(tokens: 8) - 1) < 1e-9)
        #expect(abs(costs.correction(tokens: 16) - 1) < 1e-9)
        // Decode-only learning would have priced 16 tokens at half the curve from the same steps.
        var shared = ObservedStepCost(curve: curve)
        for _ in 0..<20 { shared.observe(tokens: 8, contextTokens: 0, seconds: 0.010) }
        for _ in 0..<20 { shared.observe(tokens: 16, contextTokens: 0, seconds: 0.010) }
        #expect(abs(shared.correction(tokens: 16) - 0.5) < 1e-9)
        // The machine slows 2x while prompts run: decode prices follow (the offset keeps ~4% of it).
        for _ in 0..<200 { costs.observe(tokens: 16, contextTokens: 0, seconds: 0.020, prompt: true) }
        #expect(costs.correction(tokens: 8) > 1.9 && costs.correction(tokens: 8) < 2)
    }

    /// The saving is extrapolated from big steps: a small chunk is never priced at nothing.
    @Test func aRowlessStepKeepsATenthOfItsPrice() {
        let rows = StepCostModel(tokens: [1, 8], seconds: [0.001, 0.002], secondsPerTokenContext: 0,
                                 secondsPerOmittedLogits: 0.0005)
        #expect(abs(rows.cost(tokens: 8, logitRows: 0) - 0.0002) < 1e-12)
    }

    @Test func unusableSamplesAreIgnored() {
        var costs = ObservedStepCost(curve: curve)
        for seconds in [0, -1, Double.nan, .infinity] {
            for _ in 0..<10 { costs.observe(tokens: 1, contextTokens: 0, seconds: seconds) }
        }
        #expect(costs.correction(tokens: 1) == 1)
    }

    @Test func thePolicyBuysFewerDraftsWhenVerificationCostsMoreThanTheCurveSays() {
        let gains = [[0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1]]
        func allocate(_ costs: ObservedStepCost) -> [Int] {
            BudgetPolicy(costs: costs).allocate(gains: gains, contexts: [0], draftSeconds: [0], plainTokens: 1,
                                                baseTokens: 1, baseContext: 0, limit: 64)
        }
        var costs = ObservedStepCost(curve: curve)
        #expect(allocate(costs) == [7])
        // Plain steps cost what the curve says, but steps of 2..8 tokens turn out to cost 3x: 8 tokens
        // (2.9 expected) now take 30 ms against 10 ms for one; no prefix of the tree pays for that.
        for _ in 0..<20 { costs.observe(tokens: 1, contextTokens: 0, seconds: 0.010) }
        for _ in 0..<20 { costs.observe(tokens: 8, contextTokens: 0, seconds: 0.030) }
        #expect(allocate(costs) == [0])
    }
}
