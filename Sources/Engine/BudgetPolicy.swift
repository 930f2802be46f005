/// Chooses how many draft tokens each decoding request verifies this step, to maximise expected
/// tokens per second: Σ (1 + accepted_i) / T(N). Drafts are taken best gain first across requests
/// (within a request in tree order, so every choice is a prefix of its tree); the step keeps the
/// count whose expected rate is highest. When no draft pays for itself the answer is none: plain decoding.
struct BudgetPolicy {
    let costModel: StepCostModel

    /// - Parameters:
    ///   - drafts: each request's calibrated node gains (non-increasing in practice) and context length.
    ///   - baseTokens: tokens the step carries anyway (one per decoding request plus prompt chunks).
    ///   - baseContext: Σ context over those tokens.
    ///   - limit: most draft tokens the step may add in total.
    /// - Returns: drafts to verify per request, in `drafts` order.
    func allocate(gains: [[Double]], contexts: [Int], baseTokens: Int, baseContext: Int, limit: Int) -> [Int] {
        var taken = Array(repeating: 0, count: gains.count)
        var best = taken
        var expected = Double(gains.count)
        var tokens = baseTokens
        var context = baseContext
        var bestRate = expected / costModel.cost(tokens: tokens, contextTokens: context)
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
            taken[pick] += 1
            added += 1
            expected += pickGain
            tokens += 1
            context += contexts[pick]
            let rate = expected / costModel.cost(tokens: tokens, contextTokens: context)
            if rate > bestRate {
                bestRate = rate
                best = taken
            }
        }
        return best
    }
}
