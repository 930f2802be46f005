@testable import Engine
import Testing

@Suite struct BudgetPolicyTests {
    /// Steps up to 8 tokens cost what one costs (memory-bound), then grow linearly.
    let flatThenLinear = StepCostModel(tokens: [1, 8, 16], seconds: [0.010, 0.010, 0.020], secondsPerTokenContext: 0)
    /// Every token costs the same (compute-bound): a draft pays only if it is nearly certain.
    let linear = StepCostModel(tokens: [1, 2, 4], seconds: [0.010, 0.020, 0.040], secondsPerTokenContext: 0)

    func allocate(_ model: StepCostModel, gains: [[Double]], draftSeconds: [Double]? = nil, limit: Int = 64) -> [Int] {
        BudgetPolicy(costModel: model).allocate(
            gains: gains, contexts: gains.map { _ in 0 }, draftSeconds: draftSeconds ?? gains.map { _ in 0 },
            plainTokens: Double(gains.count), baseTokens: gains.count, baseContext: 0, limit: limit)
    }

    @Test func freeTokensAreTakenUpToTheKnee() {
        // 7 drafts fill the flat part (8 tokens, 10 ms); the 8th adds 1.25 ms for +0.3 tokens at a
        // rate of 5.55 tokens per 10 ms: 5.85 / 11.25 ms is worse.
        let counts = allocate(flatThenLinear, gains: [[0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.35, 0.3, 0.2, 0.1]])
        #expect(counts == [7])
    }

    @Test func computeBoundStepsTakeNoDrafts() {
        #expect(allocate(linear, gains: [[0.5, 0.4]]) == [0])
        // Two tokens cost twice one: a draft would have to be accepted more than always.
        #expect(allocate(linear, gains: [[0.99]]) == [0])
    }

    /// Reading each sequence's cache is paid by every plan alike, so it makes a draft relatively
    /// cheaper: a compute-bound step that could not afford one can once that cost is counted.
    @Test func theCostOfReadingEachSequenceCacheIsInEveryPlan() {
        let perSequence = StepCostModel(tokens: [1, 2, 4], seconds: [0.010, 0.020, 0.040], secondsPerTokenContext: 0,
                                        secondsPerSequenceContext: 0.0001)
        #expect(perSequence.cost(tokens: 2, contextTokens: 0, sequenceContext: 300) == 0.020 + 0.03)
        func plan(_ model: StepCostModel) -> [Int] {
            BudgetPolicy(costModel: model).allocate(gains: [[0.95]], contexts: [300], draftSeconds: [0], plainTokens: 1,
                                                    baseTokens: 1, baseContext: 300, limit: 4)
        }
        // 1.95 tokens for 20 ms + 30 ms against 1 token for 10 ms + 30 ms: +56%.
        #expect(plan(perSequence) == [1])
        #expect(plan(linear) == [0])
    }

    /// The step emits a token for every decoding request, drafting or not: one request's draft must
    /// raise the whole step's rate, not only its own request's.
    @Test func aDraftIsWeighedAgainstEveryRequestsToken() {
        func plan(decoding: Int) -> [Int] {
            BudgetPolicy(costModel: flatThenLinear).allocate(
                gains: [[0.5]], contexts: [0], draftSeconds: [0], plainTokens: Double(decoding), baseTokens: decoding,
                baseContext: 0, limit: 4)
        }
        // Alone: 1.5 tokens for 10 ms against 1 for 10 ms.
        #expect(plan(decoding: 1) == [1])
        // One of 8 decoding requests: 8.5 tokens for 11.25 ms against 8 for 10 ms is a loss.
        #expect(plan(decoding: 8) == [0])
    }

    @Test func bestGainsWinAcrossRequests() {
        let counts = allocate(flatThenLinear, gains: [[0.9, 0.2], [0.8, 0.7, 0.1]], limit: 3)
        #expect(counts == [1, 2])
    }

    @Test func draftingTimeMustBeEarnedBack() {
        let gains = [[0.3, 0.2]]
        #expect(allocate(flatThenLinear, gains: gains) == [2])
        // Drafting took 5 ms of a 10 ms step: +0.5 expected tokens for +50% time is a loss.
        #expect(allocate(flatThenLinear, gains: gains, draftSeconds: [0.005]) == [0])
        // A cheap drafter keeps them.
        #expect(allocate(flatThenLinear, gains: gains, draftSeconds: [0.0005]) == [2])
    }

    @Test func aRequestThatKeepsNoDraftsBacksOffExponentially() {
        var backoff = DraftBackoff()
        let first = backoff.shouldDraft()
        #expect(first)
        var skipped: [Int] = []
        for _ in 0..<7 {
            backoff.record(kept: false)
            var count = 0
            while !backoff.shouldDraft() { count += 1 }
            skipped.append(count)
        }
        #expect(skipped == [1, 2, 4, 8, 16, 32, 32])
        backoff.record(kept: true)
        backoff.record(kept: false)
        #expect(backoff.skip == 1)
    }

    @Test func draftingThatCostsNothingIsNotBackedOff() {
        var backoff = DraftBackoff()
        for _ in 0..<5 {
            backoff.record(kept: false, negligible: true)
            let drafts = backoff.shouldDraft()
            #expect(drafts)
        }
        backoff.record(kept: false, negligible: false)
        #expect(backoff.skip == 1)
    }

    @Test func aMarginalPlanIsNotWorthItsRisk() {
        // Compute-bound: 1 token 10 ms, 2 tokens 19 ms. One draft at 0.95: 1.95 / 19 ms is +2.6%
        // over plain decoding on paper, within the error of either estimate: decode plainly.
        let almostLinear = StepCostModel(tokens: [1, 2], seconds: [0.010, 0.019], secondsPerTokenContext: 0)
        #expect(allocate(almostLinear, gains: [[0.95]]) == [0])
        // At 1.2x the cost, the same draft promises +62%: taken.
        let cheap = StepCostModel(tokens: [1, 2], seconds: [0.010, 0.012], secondsPerTokenContext: 0)
        #expect(allocate(cheap, gains: [[0.95]]) == [1])
    }
}
