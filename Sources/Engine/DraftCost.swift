/// What drafting costs, and how many drafts per request can pay for it at a batch size.
///
/// Drafting is paid before the budget policy weighs the tree, so a tree the policy turns down is pure
/// loss. On the bundled model (small enough to sit in cache) a step's tokens cost about linearly and
/// drafting one request takes 0.05-0.075 ms against its 0.15 ms share of a batch-4 step: even drafts
/// accepted nine times in ten lose there. The policy turned those trees down, but only after they were
/// built, on every guard probe, and that cost `auto` about 2% of its decode speed at batch 4 and 8.
/// Here the steps' cost curve and the measured drafting time rule such batch sizes out before drafting.
struct DraftCost {
    /// Drafting seconds per request: a moving average over the drafts made, starting at 0, so the
    /// first drafts are built and measured.
    private(set) var secondsPerRequest = 0.0

    /// Weight of each new draft in the average.
    static let weight = 0.1
    /// A draft counts at most this many times the estimate (plus `floorSeconds`): a compute thread
    /// descheduled while drafting must not rule drafting out for long.
    static let stallRatio = 3.0
    static let floorSeconds = 20e-6
    /// Per step in which the estimate ruled drafting out, it shrinks by this factor (halving in about
    /// 350 steps). Drafting that is ruled out is not measured, so an estimate that was too high could
    /// not otherwise come down; this way drafts are tried again, and measured again. Where the
    /// estimate was right, each such retry costs one drafting step (bundled model, batch 8: drafting
    /// 8 times the threshold, a retry every 1000 steps or so).
    static let ruledOutDecay = 0.998
    /// How often a draft is accepted at best, given its parent was: corpus copies come close.
    static let bestAcceptance = 0.9

    mutating func record(seconds: Double) {
        guard seconds >= 0, seconds.isFinite else { return }
        let sample = min(seconds, Self.stallRatio * secondsPerRequest + Self.floorSeconds)
        secondsPerRequest += Self.weight * (sample - secondsPerRequest)
    }

    mutating func ruledOut() {
        secondsPerRequest *= Self.ruledOutDecay
    }

    /// Whether any draft could pay when `d` requests decode with contexts adding up to `context`, all
    /// of them drafting: whether some k of them (one, or all) verifying s ≤ `cap` drafts each, accepted
    /// as a chain is at best (each node `bestAcceptance` times its parent's), would make the step's
    /// tokens per second, drafting included, `minimumGain` better than a plain step's. When none would,
    /// no plan of the budget policy can pay either, and drafting is skipped.
    func canPay(decoding d: Int, context: Int, costs: ObservedStepCost, cap: Int,
                minimumGain: Double = BudgetPolicy.minimumGain) -> Bool {
        let d = max(d, 1)
        let plain = Self.step(decoding: d, context: context, drafting: 0, each: 0, costs: costs)
        guard plain > 0 else { return false }
        let needed = (1 + minimumGain) * Double(d) / plain
        let drafting = Double(d) * secondsPerRequest
        func rate(drafting k: Int, each s: Int, accepted: Double) -> Double {
            (Double(d) + Double(k) * accepted) / (Self.step(decoding: d, context: context, drafting: k, each: s, costs: costs) + drafting)
        }
        var accepted = 0.0, chain = 1.0
        for s in stride(from: 1, through: max(cap, 0), by: 1) {
            chain *= Self.bestAcceptance
            accepted += chain
            if rate(drafting: 1, each: s, accepted: accepted) >= needed
                || rate(drafting: d, each: s, accepted: accepted) >= needed { return true }
        }
        return false
    }

    /// Drafts per request worth building at this batch size: the largest s for which a step of
    /// d·(1 + s) tokens costs no more than d·(1 + 0.9·s) tokens' worth of single steps would, i.e. even
    /// near-certain drafts could still pay. Past it drafting is wasted work.
    ///
    /// At the step's context (Σ cached length of the `d` requests): a plain step then also reads every
    /// request's keys and values, which its drafts add to only through their own attention. Priced
    /// without it, the bundled model's steps of 8 requests at code-long's contexts afforded no draft
    /// at all, where drafts won 10-20%; only a bias in the learned prices had let them through.
    static func affordableDrafts(decoding d: Int, context: Int = 0, costs: ObservedStepCost, cap: Int) -> Int {
        let d = max(d, 1)
        let base = step(decoding: d, context: context, drafting: 0, each: 0, costs: costs)
        var best = 0
        for s in stride(from: 1, through: max(cap, 0), by: 1)
        where step(decoding: d, context: context, drafting: d, each: s, costs: costs) <= base * (1 + bestAcceptance * Double(s)) {
            best = s
        }
        return best
    }

    /// Seconds of a decode step of `d` requests with contexts adding up to `context`, `k` of which
    /// verify `s` drafts each. Every draft node attends over about its request's context, as the
    /// request's own token does.
    static func step(decoding d: Int, context: Int, drafting k: Int, each s: Int, costs: ObservedStepCost) -> Double {
        costs.cost(tokens: d + k * s, contextTokens: context + context * k * s / max(d, 1), sequenceContext: context)
    }
}
