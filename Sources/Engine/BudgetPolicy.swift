/// Chooses how many draft tokens each decoding request verifies this step, to maximise expected
/// tokens per second: Σ (1 + accepted_i) / T(N). Drafts are taken best gain first across requests
/// (within a request in tree order, so every choice is a prefix of its tree); the step keeps the
/// count whose expected rate is highest. A request's drafting time counts as cost from its first kept
/// draft on (this step's drafting is already done, but the answer decides whether the request keeps
/// drafting: see `DraftBackoff`). When no draft pays for itself the answer is none: plain decoding.
struct BudgetPolicy {
    let costs: ObservedStepCost

    init(costs: ObservedStepCost) { self.costs = costs }
    /// A policy on the startup curve alone.
    init(costModel: StepCostModel) { costs = ObservedStepCost(curve: costModel) }

    /// - Parameters:
    ///   - drafts: each request's calibrated node gains (non-increasing in practice) and context length.
    ///   - draftSeconds: each request's drafting time.
    ///   - plainTokens: tokens the step emits without these drafts: one per decoding request, drafting
    ///     or not, plus what other (fixed-budget) drafts are expected to win. Counting only the requests
    ///     that drafted would make a few drafts in a large batch look worth a step's whole cost.
    ///   - baseTokens: tokens the step carries anyway (one per decoding request plus prompt chunks).
    ///   - promptTokens: those of them in prompt chunks, which want no logits row.
    ///   - baseContext: Σ context over those tokens (also the cached lengths of the step's sequences).
    ///   - limit: most draft tokens the step may add in total.
    /// - Returns: drafts to verify per request, in `drafts` order.
    func allocate(gains: [[Double]], contexts: [Int], draftSeconds: [Double], plainTokens: Double, baseTokens: Int,
                  promptTokens: Int = 0, baseContext: Int, limit: Int) -> [Int] {
        var taken = Array(repeating: 0, count: gains.count)
        var best = taken
        var expected = plainTokens
        var tokens = baseTokens
        var context = baseContext
        var drafting = 0.0
        // Every plan reads the same sequences' caches; that cost is in each of them.
        let sequences = baseContext
        func cost(_ tokens: Int, _ context: Int) -> Double {
            costs.cost(tokens: tokens, logitRows: tokens - promptTokens, contextTokens: context, sequenceContext: sequences)
        }
        let plainRate = expected / cost(tokens, context)
        var bestRate = plainRate
        var added = 0
        while added < limit {
            // The request whose next node promises the most.
            var pick = -1
            var pickGain = 0.0
            for i in gains.indices where taken[i] < gains[i].count && gains[i][taken[i]] > pickGain {
                pick = i
                pickGain = gains[i][taken[i]]
            }
            guard pick >= 0 else { break }
            if taken[pick] == 0 { drafting += draftSeconds[pick] }
            taken[pick] += 1
            added += 1
            expected += pickGain
            tokens += 1
            context += contexts[pick]
            let rate = expected / (cost(tokens, context) + drafting)
            if rate > bestRate {
                bestRate = rate
                best = taken
            }
        }
        return bestRate >= plainRate * (1 + Self.minimumGain) ? best : Array(repeating: 0, count: gains.count)
    }

    /// A plan with drafts must promise this much more than plain decoding (8%). Gains and costs are
    /// estimates; where extra tokens cost almost what they can win (a small, compute-bound model, or
    /// large batches) a plan that promises +2% loses as often as not, and plain decoding is never
    /// slower than itself.
    static let minimumGain = 0.08
}

/// Whether a request drafts this step. When the budget policy keeps none of a request's drafts
/// (they do not earn back their drafting time), the request skips drafting for a while: 1 step, then
/// 2, 4, ... 32 after each further such step, so a request that does not speculate well costs almost
/// nothing while still being probed now and then. One kept draft resets it.
///
/// Only where drafting costs something: when a request's drafting time is a negligible part of its
/// share of the step (a memory-bound model: 0.1 ms against 60 ms on the 1B shape), skipping saves
/// nothing and loses the steps whose drafts would have paid. At batch 1 there, backing off turned 62
/// of 345 steps plain (1 token each) where a fixed budget of 7 kept 3.4 tokens per step.
struct DraftBackoff {
    private(set) var skip = 0
    private var length = 1
    /// Drafting below this fraction of the request's share of a step is never backed off (2%).
    static let negligibleShare = 0.02

    /// True when this step should draft; otherwise counts one skipped step.
    mutating func shouldDraft() -> Bool {
        guard skip > 0 else { return true }
        skip -= 1
        return false
    }

    mutating func record(kept: Bool, negligible: Bool = false) {
        if kept || negligible {
            length = 1
        } else {
            skip = length
            length = min(2 * length, 32)
        }
    }
}
