import Transformer

/// What a forward step costs on this machine: T(N, context) for N tokens per step. The budget
/// policy weighs the tokens a draft may win against the time it adds, using this curve.
///
/// Measured, not guessed: steps over N tokens of a fresh sequence at short context give T(N); the
/// same at a long context gives the attention slope (extra seconds per token per context position);
/// the same tokens spread over several sequences give the cost of reading each sequence's keys and
/// values, which a step pays once per sequence however many of its tokens attend.
public struct StepCostModel: Sendable, Codable, Equatable {
    /// Token counts measured, ascending, and their step seconds at short context (fastest repetition).
    public var tokens: [Int]
    public var seconds: [Double]
    /// Extra seconds per new token per context position it attends over.
    public var secondsPerTokenContext: Double
    /// Extra seconds per sequence in the step per cached position of it (its keys and values read once).
    /// A decode step of 16 requests at 250 tokens of context on the 1B shape spends ~26 ms here (6.4 µs).
    public var secondsPerSequenceContext: Double
    /// Seconds a step saves per token that needs no logits row (a prompt token that does not end its
    /// chunk): the output head's product for that row. The curve's steps want every row, as decode and
    /// verification steps do. Bundled model, 128 tokens: 43 µs of a token's 262 µs.
    public var secondsPerOmittedLogits: Double

    public init(tokens: [Int], seconds: [Double], secondsPerTokenContext: Double, secondsPerSequenceContext: Double = 0,
                secondsPerOmittedLogits: Double = 0) {
        precondition(tokens.count == seconds.count && !tokens.isEmpty)
        self.tokens = tokens
        self.seconds = seconds
        self.secondsPerTokenContext = secondsPerTokenContext
        self.secondsPerSequenceContext = secondsPerSequenceContext
        self.secondsPerOmittedLogits = secondsPerOmittedLogits
    }

    /// Step seconds for `n` tokens, `logitRows` of which want logits (nil: all of them), whose contexts
    /// add up to `contextTokens` (Σ context of each token), from sequences whose cached lengths add up
    /// to `sequenceContext`.
    public func cost(tokens n: Int, logitRows: Int? = nil, contextTokens: Int = 0, sequenceContext: Int = 0) -> Double {
        let full = base(n)
        let omitted = Double(max(0, n - (logitRows ?? n)))
        // Never below a tenth of the full step: the saving is measured on big steps and extrapolated.
        let tokens = max(full - secondsPerOmittedLogits * omitted, 0.1 * full)
        return tokens + secondsPerTokenContext * Double(contextTokens) + secondsPerSequenceContext * Double(sequenceContext)
    }

    /// Piecewise-linear in N between measured points; linear extrapolation past the last one.
    func base(_ n: Int) -> Double {
        if n <= tokens[0] { return seconds[0] * Double(max(n, 1)) / Double(max(tokens[0], 1)) }
        for i in 1..<tokens.count where n <= tokens[i] {
            let fraction = Double(n - tokens[i - 1]) / Double(tokens[i] - tokens[i - 1])
            return seconds[i - 1] + fraction * (seconds[i] - seconds[i - 1])
        }
        guard tokens.count >= 2 else { return seconds[0] * Double(n) / Double(tokens[0]) }
        let last = tokens.count - 1
        let slope = (seconds[last] - seconds[last - 1]) / Double(tokens[last] - tokens[last - 1])
        return seconds[last] + slope * Double(n - tokens[last])
    }

    /// Every count up to 16, then sparser. The matmul kernels multiply each weight tile by up to 4
    /// tokens at a time (AVX2; 8 with AVX-512), so the step cost climbs in stairs: the first token of
    /// a new group costs what 3 more of the group do (bundled model: 0.52 ms at 4 tokens, 0.74 at 5,
    /// 0.97 at 8; 1B shape: 87, 131 and 161 ms). Interpolated from 4 and 8 alone, a step of 5 looked
    /// half as dear over 4 as it is, and the budget policy bought drafts that opened a group they could
    /// not pay for (1B shape, batch 1: its 13-token steps ran at 1.25-1.3x their price). Measured at
    /// every count, the stairs are in the curve, and the policy's plans end at their tops (4 and 8).
    public static let defaultTokenCounts = Array(1...16) + [20, 24, 32, 48, 64, 96, 128]

    /// Times steps of `model` for each token count: the fastest of `repetitions` (after a warm-up) in
    /// each of `passes` sweeps over the whole curve. Sweeping several times, rather than repeating each
    /// point in a row, means a burst of other load on a shared machine (a compute thread descheduled
    /// for a time slice costs a small model's step tenfold) spoils points of one pass, not the curve.
    ///
    /// A point of the curve whose step takes `longStep` or more (as its earlier pass, or the smaller
    /// point before it, showed) runs once per pass, without a warm-up: a time slice lost is a small
    /// part of it, and the passes still give the fastest of several. The last point, and the steps
    /// whose differences give the attention terms and the row-less saving, keep every repetition:
    /// those differences are a few percent of the steps. The long-context steps' caches are filled
    /// once, not once per pass. On the 1B shape, measuring the 23 points (which the first start of a
    /// worker waits for) takes about 2 minutes; before these savings, 12 points took over 3.
    ///
    /// `progress` hears the fraction done (0 before the long contexts are filled, then after each
    /// timed step), so a worker can tell its supervisor that a long first start is still moving.
    public static func measure(model: TransformerModel, cache: PagedKVCache, tokenCounts: [Int] = defaultTokenCounts,
                               repetitions: Int = 2, passes: Int = 3, longContext: Int = 512,
                               longStep: Double = 0.25, progress: (Double) -> Void = { _ in }) -> StepCostModel {
        let counts = tokenCounts.filter { $0 <= model.maxTokensPerStep }.sorted()
        let slopeTokens = min(16, model.maxTokensPerStep)
        // The contexts below stay cached through every pass: C + C/4 + 4·C/4 tokens, and room for the
        // largest step beside them.
        let room = cache.freeTokenCapacity - 64 - (counts.last ?? 1) - 6 * slopeTokens
        let context = min(longContext, model.maxContext - 32, room * 4 / 9)
        // The same step spread over several sequences (a quarter of the long context each, to keep the
        // prefill short) separates reading each sequence's cache from attending per token.
        let spread = min(4, slopeTokens), spreadContext = context / 4
        progress(0)
        let contexts = context > 64 ? [
            prefill(model: model, cache: cache, context: context, sequences: 1),
            prefill(model: model, cache: cache, context: spreadContext, sequences: 1),
            prefill(model: model, cache: cache, context: spreadContext, sequences: spread),
        ] : []
        defer { for ids in contexts { ids?.forEach { cache.release($0) } } }
        var seconds = Array(repeating: Double.infinity, count: counts.count)
        var long = Double.infinity, short = Double.infinity, oneSequence = Double.infinity, spreadOut = Double.infinity
        // The largest step again without logits rows: what a prompt chunk saves per token.
        let rowless = counts.last ?? 1
        var withoutRows = Double.infinity
        // `atLeast`: what the step must cost, from a smaller step already timed (more tokens never
        // cost less), so a long step runs once from the first pass on.
        func time(_ tokens: Int, on ids: [Int]? = nil, context: Int = 0, logits: Batch.ChainLogits = .all,
                  best: Double, once: Bool = false, atLeast: Double = 0) -> Double {
            let reps = once && max(best.isFinite ? best : 0, atLeast) >= longStep ? 0 : repetitions
            let seconds = ids.map {
                timeStep(model: model, cache: cache, tokens: tokens, on: $0, context: context, logits: logits, repetitions: reps)
            } ?? timeStep(model: model, cache: cache, tokens: tokens, context: 0, logits: logits, repetitions: reps)
            return min(best, seconds)
        }
        let passCount = max(1, passes)
        let stepsPerPass = Double(counts.count + 1)
        for pass in 0..<passCount {
            func done(_ steps: Int) { progress((Double(pass) + Double(steps) / stepsPerPass) / Double(passCount)) }
            for (i, n) in counts.enumerated() {
                let smaller = i > 0 && seconds[i - 1].isFinite ? seconds[i - 1] : 0
                seconds[i] = time(n, best: seconds[i], once: i < counts.count - 1, atLeast: smaller)
                done(i + 1)
            }
            withoutRows = time(rowless, logits: .none, best: withoutRows)
            // Attention slope from a step of 16 tokens over a long context.
            if contexts.count == 3, let longIDs = contexts[0], let oneIDs = contexts[1], let spreadIDs = contexts[2] {
                long = time(slopeTokens, on: longIDs, context: context, best: long)
                short = time(slopeTokens, best: short)
                oneSequence = time(slopeTokens, on: oneIDs, context: spreadContext, best: oneSequence)
                spreadOut = time(slopeTokens, on: spreadIDs, context: spreadContext, best: spreadOut)
            }
            done(counts.count + 1)
        }
        // More tokens never cost less: what noise is left must not make the curve dip.
        for i in seconds.indices.dropFirst() { seconds[i] = max(seconds[i], seconds[i - 1]) }
        let measured = context > 64 && [long, short, oneSequence, spreadOut].allSatisfy(\.isFinite)
        // One sequence: short + (a·16 + b)·C; spread over k: short + (a·16 + b·k)·(C/4), same a.
        let perSequence = measured ? max(0, (spreadOut - oneSequence) / Double((spread - 1) * spreadContext)) : 0
        let slope = measured ? max(0, (long - short - perSequence * Double(context)) / Double(slopeTokens * context)) : 0
        let perRow = withoutRows.isFinite && !seconds.isEmpty
            ? max(0, (seconds[seconds.count - 1] - withoutRows) / Double(rowless)) : 0
        return StepCostModel(tokens: counts, seconds: seconds, secondsPerTokenContext: slope,
                             secondsPerSequenceContext: perSequence, secondsPerOmittedLogits: perRow)
    }

    /// Seconds of one step over `tokens` new tokens after `context` cached ones: the fastest of the
    /// repetitions, since other load on a shared machine only ever adds time. The tokens are spread
    /// over `sequences` sequences (one chain each, `context` cached tokens each): a decode step of d
    /// requests reads d sequences' keys and values, a verification step reads them once per chain.
    public static func timeStep(model: TransformerModel, cache: PagedKVCache, tokens: Int, context: Int,
                                sequences: Int = 1, logits: Batch.ChainLogits = .all, repetitions: Int) -> Double {
        guard let ids = prefill(model: model, cache: cache, context: context, sequences: max(1, min(sequences, tokens))) else {
            return .infinity
        }
        defer { ids.forEach { cache.release($0) } }
        return timeStep(model: model, cache: cache, tokens: tokens, on: ids, context: context, logits: logits,
                        repetitions: repetitions)
    }

    /// `sequences` new sequences of `context` cached tokens each (the caller releases them), or nil
    /// when the cache cannot hold them.
    static func prefill(model: TransformerModel, cache: PagedKVCache, context: Int, sequences: Int) -> [Int]? {
        let ids = (0..<sequences).map { _ in cache.createSequence() }
        let vocabulary = model.vocabularySize
        var batch = Batch(capacity: min(max(context, 1), model.maxTokensPerStep))
        for sequence in ids {
            var filled = 0
            while filled < context {
                let chunk = min(context - filled, model.maxTokensPerStep)
                batch.removeAll()
                batch.appendChain((filled..<(filled + chunk)).map { ($0 * 7 + 3) % vocabulary }, sequence: sequence,
                                  startPosition: filled, logits: .none)
                guard model.forward(batch, cache: cache) != .cacheFull else {
                    ids.forEach { cache.release($0) }
                    return nil
                }
                cache.commit(sequence, count: chunk)
                filled += chunk
            }
        }
        return ids
    }

    /// The step of `timeStep` on sequences already holding `context` cached tokens each; their new
    /// tokens are written past the context and never committed, so the sequences can be timed again.
    /// `repetitions` 0 times a single run, without a warm-up.
    static func timeStep(model: TransformerModel, cache: PagedKVCache, tokens: Int, on ids: [Int], context: Int,
                         logits: Batch.ChainLogits, repetitions: Int) -> Double {
        let vocabulary = model.vocabularySize, count = ids.count
        var batch = Batch(capacity: max(tokens, 1))
        // Every token of a decode or verification step needs its logits (one per request, one per
        // draft node), and the output head is a large part of a small-vocabulary model's step.
        for (index, sequence) in ids.enumerated() {
            let share = tokens / count + (index < tokens % count ? 1 : 0)
            batch.appendChain((0..<share).map { ($0 * 13 + 5 + index) % vocabulary }, sequence: sequence,
                              startPosition: context, logits: logits)
        }
        var samples: [Double] = []
        for repetition in 0...max(0, repetitions) {
            let start = monotonicSeconds()
            guard model.forward(batch, cache: cache) != .cacheFull else { return .infinity }
            if repetition > 0 || repetitions <= 0 { samples.append(monotonicSeconds() - start) }
        }
        return samples.min() ?? .infinity
    }
}
