import Foundation

/// The step cost the budget policy plans with: the curve measured at start (`StepCostModel`), times a
/// correction learned from the steps this engine actually runs.
///
/// The startup curve times bare forward passes of one sequence; a real step also verifies trees,
/// samples every logits row, spreads its tokens over several sequences, and shares the machine with
/// whatever else runs now. Those costs grow with the step's token count, so a curve that is right for
/// plain decoding can be wrong by tens of percent for a verification step, and the policy would buy
/// drafts that do not pay. Each step's seconds are compared with the curve's prediction for its token
/// count and context: log(observed / predicted) = machine + offset of the step's bucket (the curve
/// point at or above its token count).
///
/// - `machine` is the state of the machine now, a running mean over the recent steps of every learned
///   bucket: another process's slow spell raises it for all step sizes at once.
/// - A bucket's `offset` is what its steps cost beyond that, learned from its first few steps and then
///   slowly. Measured against the machine of its own moments, it does not keep a slow spell. With one
///   factor per bucket, a bucket of big trees first visited while the machine was slow was priced
///   high, so used less, so corrected less: four traced runs at batch 1 (bundled model, same prompts)
///   ended with it at 1.1x to 1.96x the curve.
///
/// A bucket the engine has not visited enough is priced at the curve, or lower when its nearest
/// visited bucket runs faster than the curve says: never higher. Only a visited bucket can correct
/// itself, so an unvisited one must look at least as cheap as the evidence allows, or the policy may
/// never try it. A worker that measured its curve while the machine was busy (a test worker among a
/// parallel test run) can get bigger steps priced too high against the plain step; carrying the plain
/// step's correction of 3x over to them kept that worker from ever drafting. The price of this: where
/// the plain step runs slower than the curve (1.2-1.3x on the 1B shape) bigger steps look that much
/// cheaper until the policy has run a few of them.
///
/// Steps that carry prompt chunks keep offsets of their own. They cost the curve's shape less well
/// than decode steps do (one long chain, few logits rows), and the two kinds share buckets: with one
/// offset per bucket, chunks taught big buckets to cost 0.5-0.8 of the curve, verification steps of
/// those sizes then ran dearer than priced, the machine term took up the difference while drafts
/// ran, and every price rose with it, the plain step's included (1.7-1.9x the curve for a plain
/// 16-token step that ran at 1.2x). The policy and the speed guard, whose unit is that plain price,
/// both leaned toward drafting. Prompt steps still teach the machine term: a slow spell during prefill
/// is the machine's.
struct ObservedStepCost {
    let curve: StepCostModel
    /// log(observed / predicted) of the recent steps, less their buckets' offsets.
    private var machine = 0.0
    /// Learned from decode steps (plain, or verifying drafts): the steps the policy prices.
    private var offsets: Offsets
    /// Learned from steps that carry prompt chunks; they only keep those steps' surprise out of `machine`.
    private var promptOffsets: Offsets
    /// Per curve point: the factor in use (its own, or at most 1 from its nearest observed neighbour),
    /// kept current by `observe` because the policy asks for it dozens of times per step.
    private var factors: [Double]

    /// Steps a bucket needs before its correction is used; its offset is their plain mean.
    static let minimumObservations = 8
    /// Weight of a new step in the machine's state (a memory of about 20 steps).
    static let weight = 0.05
    /// Weight of a new step in its bucket's offset once learned (a memory of about 500 of its steps).
    /// What a bucket costs beyond the machine's state changes slowly, and every step's surprise is
    /// split between the two in proportion: this way a slow spell is 96% the machine's.
    static let offsetWeight = 0.002
    /// One step moves a bucket at most this factor: a step stalled by another process (a descheduled
    /// compute thread costs a whole time slice) must not teach the policy that steps are slow.
    static let maximumRatio = 3.0

    init(curve: StepCostModel) {
        self.curve = curve
        offsets = Offsets(count: curve.tokens.count)
        promptOffsets = Offsets(count: curve.tokens.count)
        factors = Array(repeating: 1, count: curve.tokens.count)
    }

    /// Per curve point: its steps' mean of log(observed / predicted) - machine, and how many it has seen.
    struct Offsets {
        var mean: [Double]
        var observations: [Int]

        init(count: Int) {
            mean = Array(repeating: 0, count: count)
            observations = Array(repeating: 0, count: count)
        }

        func learned(_ b: Int) -> Bool {
            observations.indices.contains(b) && observations[b] >= ObservedStepCost.minimumObservations
        }

        /// Takes one step's sample into bucket `b`, and into `machine` once the bucket is learned: only a
        /// learned offset can tell the machine's part of a step from the bucket's.
        mutating func learn(_ sample: Double, bucket b: Int, machine: inout Double) {
            if learned(b) { machine += ObservedStepCost.weight * (sample - mean[b] - machine) }
            observations[b] += 1
            let rate = observations[b] <= ObservedStepCost.minimumObservations ? 1 / Double(observations[b])
                : ObservedStepCost.offsetWeight
            mean[b] += rate * (sample - machine - mean[b])
        }
    }

    /// Predicted seconds of a step of `n` tokens, `logitRows` of which want logits (nil: all), whose
    /// contexts add up to `contextTokens`, from sequences whose cached lengths add up to `sequenceContext`.
    func cost(tokens n: Int, logitRows: Int? = nil, contextTokens: Int = 0, sequenceContext: Int = 0) -> Double {
        curve.cost(tokens: n, logitRows: logitRows, contextTokens: contextTokens, sequenceContext: sequenceContext)
            * correction(tokens: n)
    }

    /// The learned factor for steps of `n` tokens: its bucket's, else the nearest observed bucket's
    /// (the smaller bucket on a tie) when that is below 1, else 1.
    func correction(tokens n: Int) -> Double {
        factors[bucket(n)]
    }

    private mutating func updateFactors() {
        for b in factors.indices {
            guard let nearest = nearestVisited(b) else {
                factors[b] = 1
                continue
            }
            let own = exp(machine + offsets.mean[nearest])
            factors[b] = nearest == b ? own : min(1, own)
        }
    }

    /// The bucket nearest to `b` with enough observations (the smaller one on a tie; `b` itself first).
    private func nearestVisited(_ b: Int) -> Int? {
        for distance in 0..<factors.count {
            if offsets.learned(b - distance) { return b - distance }
            if offsets.learned(b + distance) { return b + distance }
        }
        return nil
    }

    /// Records one step: `seconds` it took, without drafting (the policy counts drafting separately),
    /// predicted for the logits rows it computed; `prompt` when it carried prompt chunks.
    mutating func observe(tokens n: Int, logitRows: Int? = nil, contextTokens: Int, sequenceContext: Int = 0, seconds: Double,
                          prompt: Bool = false) {
        let predicted = curve.cost(tokens: n, logitRows: logitRows, contextTokens: contextTokens,
                                   sequenceContext: sequenceContext)
        guard n > 0, predicted > 0, seconds > 0, seconds.isFinite else { return }
        let limit = log(Self.maximumRatio)
        let sample = min(max(log(seconds / predicted), -limit), limit)
        if prompt {
            promptOffsets.learn(sample, bucket: bucket(n), machine: &machine)
        } else {
            offsets.learn(sample, bucket: bucket(n), machine: &machine)
        }
        updateFactors()
    }

    private func bucket(_ n: Int) -> Int {
        curve.tokens.firstIndex { n <= $0 } ?? curve.tokens.count - 1
    }
}
