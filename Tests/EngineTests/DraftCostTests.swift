@testable import Engine
import Testing

@Suite struct DraftCostTests {
    /// Steps up to 16 tokens cost what one costs (memory-bound), then grow linearly.
    let memoryBound = ObservedStepCost(curve: StepCostModel(tokens: [1, 16, 32], seconds: [0.060, 0.060, 0.120],
                                                            secondsPerTokenContext: 0))
    /// The bundled model's shape: a fixed part, then about linear in the step's tokens.
    let computeBound = ObservedStepCost(curve: StepCostModel(tokens: [1, 4, 8, 16, 32],
                                                             seconds: [0.0004, 0.0006, 0.0009, 0.0017, 0.0030],
                                                             secondsPerTokenContext: 0))

    func cost(afterDrafts seconds: [Double]) -> DraftCost {
        var cost = DraftCost()
        for s in seconds { cost.record(seconds: s) }
        return cost
    }

    @Test func aMemoryBoundStepAffordsTheWholeCap() {
        let cost = cost(afterDrafts: Array(repeating: 100e-6, count: 50))
        #expect(cost.canPay(decoding: 1, context: 0, costs: memoryBound, cap: 15))
        #expect(DraftCost.affordableDrafts(decoding: 1, costs: memoryBound, cap: 15) == 15)
        // 16 requests fill the flat part: one draft each doubles the step for at most 1.9x the tokens.
        #expect(DraftCost.affordableDrafts(decoding: 16, costs: memoryBound, cap: 15) == 0)
    }

    /// Long contexts make a plain step dearer per token than a draft is: each request's token reads its
    /// whole cache. On the bundled model's shape, 8 requests at 700 cached tokens each afford drafts
    /// that 8 requests at the start of their prompts do not.
    @Test func aLongContextAffordsDraftsAShortOneDoesNot() {
        let curve = StepCostModel(tokens: [1, 2, 4, 8, 12, 16, 24, 32],
                                  seconds: [0.00045, 0.00059, 0.0010, 0.00196, 0.00292, 0.00394, 0.00594, 0.00792],
                                  secondsPerTokenContext: 0.26e-6, secondsPerSequenceContext: 0.30e-6)
        let costs = ObservedStepCost(curve: curve)
        #expect(DraftCost.affordableDrafts(decoding: 8, context: 0, costs: costs, cap: 15) == 0)
        #expect(DraftCost.affordableDrafts(decoding: 8, context: 8 * 700, costs: costs, cap: 15) > 0)
    }

    /// Batch 4 on a compute-bound model: without drafting time near-certain drafts would just pay;
    /// with half a request's share of the step spent drafting (as measured), no number of them does.
    @Test func draftingTimeRulesOutABatchSizeWhereDraftsBarelyPay() {
        #expect(DraftCost().canPay(decoding: 4, context: 0, costs: computeBound, cap: 15))
        let measured = cost(afterDrafts: Array(repeating: 75e-6, count: 50))
        #expect(!measured.canPay(decoding: 4, context: 0, costs: computeBound, cap: 15))
        // At batch 1 the step's fixed part still leaves room.
        #expect(measured.canPay(decoding: 1, context: 0, costs: computeBound, cap: 15))
    }

    /// One request copying the corpus can pay where drafts for all would not: steps cost the same up
    /// to 12 tokens and three times that at 16. With 8 requests, one request's 4 drafts fit; a draft
    /// each already makes 16 tokens.
    @Test func oneRequestsDraftsCanPayWhereEveryonesWouldNot() {
        let knee = ObservedStepCost(curve: StepCostModel(tokens: [1, 8, 12, 16], seconds: [0.010, 0.010, 0.0105, 0.030],
                                                         secondsPerTokenContext: 0))
        #expect(DraftCost().canPay(decoding: 8, context: 0, costs: knee, cap: 4))
        // At 16 requests the step is past the knee: no draft of anyone's can pay.
        #expect(!DraftCost().canPay(decoding: 16, context: 0, costs: knee, cap: 4))
    }

    /// Reading each sequence's cache is paid by plain and drafted steps alike: long contexts make
    /// drafts relatively cheaper.
    @Test func longContextsMakeDraftsAffordable() {
        let curve = StepCostModel(tokens: [1, 4, 8, 16, 32], seconds: [0.0004, 0.0006, 0.0009, 0.0017, 0.0030],
                                  secondsPerTokenContext: 0, secondsPerSequenceContext: 1e-6)
        let measured = cost(afterDrafts: Array(repeating: 75e-6, count: 50))
        let costs = ObservedStepCost(curve: curve)
        #expect(!measured.canPay(decoding: 4, context: 0, costs: costs, cap: 15))
        #expect(measured.canPay(decoding: 4, context: 4 * 2000, costs: costs, cap: 15))
    }

    @Test func aStalledDraftMovesTheEstimateLittle() {
        var cost = cost(afterDrafts: Array(repeating: 50e-6, count: 100))
        let before = cost.secondsPerRequest
        #expect(abs(before - 50e-6) < 1e-6)
        cost.record(seconds: 0.005)
        #expect(cost.secondsPerRequest <= before + DraftCost.weight * (2 * before + DraftCost.floorSeconds) + 1e-12)
    }

    /// An estimate too high (here, drafts measured on a busy machine) rules drafting out, and without
    /// drafting nothing would correct it: each ruled-out step lowers it until drafts are tried again.
    @Test func draftsRuledOutAreTriedAgainLater() {
        var cost = cost(afterDrafts: Array(repeating: 1.5e-3, count: 100))
        var steps = 0
        while !cost.canPay(decoding: 1, context: 0, costs: computeBound, cap: 15) && steps < 1000 {
            cost.ruledOut()
            steps += 1
        }
        #expect(steps > 0 && steps < 500)
    }

    @Test func unusableSamplesAreIgnored() {
        var cost = DraftCost()
        cost.record(seconds: -1)
        cost.record(seconds: .nan)
        cost.record(seconds: .infinity)
        #expect(cost.secondsPerRequest == 0)
    }
}
