import Tokenization

/// A request's output on its way out: ids → text (``StreamingDetokenizer``), stop strings
/// (``StopMatcher``), and the rule that an id leaves only together with the last of the text it
/// completes. Text the detokenizer holds back (an incomplete character) or the stop matcher holds
/// back (a possible stop string) keeps its ids back too.
///
/// That makes "the ids a client received" exactly "the ids whose text it received": a router that
/// resumes the request elsewhere from those ids (failover) neither repeats nor loses text, even when
/// the worker died with text pending.
///
/// Log-probabilities, when the request wants them, travel with their ids: the gate releases ids in the
/// order they were pushed, each exactly once, so a FIFO beside the ids pairs every released id with
/// its own logprob without touching the grouping logic.
struct OutputGate {
    struct Output: Equatable {
        var ids: [Int] = []
        var text = ""
        /// Parallel to `ids` when logprobs were pushed, else empty.
        var logprobs: [TokenLogprob] = []
        /// A stop string matched: the output ends here (its ids all leave, the stop's text does not).
        var stopped = false
    }

    private var detokenizer: StreamingDetokenizer
    private var stopMatcher: StopMatcher
    /// Ids whose text the detokenizer still holds.
    private var undecoded: [Int] = []
    /// Ids with their text length (Unicode scalars), decoded but not all released by the stop matcher.
    private var unreleased: [(ids: [Int], scalars: Int)] = []
    /// Text the stop matcher released that belongs to ids still in ``unreleased`` (a prefix of theirs).
    private var released = String.UnicodeScalarView()
    /// Logprobs of the ids pushed and not yet released, in push order.
    private var heldLogprobs: [TokenLogprob] = []

    init(tokenizer: Tokenizer, priorIDs: [Int], stopStrings: [String]) {
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true, priorIDs: priorIDs)
        stopMatcher = StopMatcher(stops: stopStrings)
    }

    /// Adds one generated id (with its logprob when the request wants them); returns the ids and text
    /// that may leave now.
    mutating func push(_ id: Int, logprob: TokenLogprob? = nil) -> Output {
        if let logprob { heldLogprobs.append(logprob) }
        undecoded.append(id)
        let delta = detokenizer.push(id)
        guard !delta.isEmpty else { return Output() }
        unreleased.append((undecoded, delta.unicodeScalars.count))
        undecoded = []
        let matched = stopMatcher.push(delta)
        released.append(contentsOf: matched.text.unicodeScalars)
        if matched.stop != nil { return withLogprobs(everything(stopped: true)) }
        return withLogprobs(releaseWholeGroups())
    }

    /// Nothing more will be generated: releases everything held (unless it completes a stop string).
    mutating func finish() -> Output {
        let matched = stopMatcher.push(detokenizer.finish())
        released.append(contentsOf: matched.text.unicodeScalars)
        if matched.stop == nil { released.append(contentsOf: stopMatcher.finish().unicodeScalars) }
        return withLogprobs(everything(stopped: matched.stop != nil))
    }

    /// Pairs the released ids with the oldest held logprobs (none when the request pushes none).
    private mutating func withLogprobs(_ output: Output) -> Output {
        guard !heldLogprobs.isEmpty, !output.ids.isEmpty else { return output }
        var paired = output
        let count = min(output.ids.count, heldLogprobs.count)
        paired.logprobs = Array(heldLogprobs.prefix(count))
        heldLogprobs.removeFirst(count)
        return paired
    }

    /// The groups whose text is entirely released, in order.
    private mutating func releaseWholeGroups() -> Output {
        var output = Output()
        var scalars = 0
        var taken = 0
        for group in unreleased {
            guard scalars + group.scalars <= released.count else { break }
            scalars += group.scalars
            output.ids += group.ids
            taken += 1
        }
        guard taken > 0 else { return output }
        unreleased.removeFirst(taken)
        let cut = released.index(released.startIndex, offsetBy: scalars)
        output.text = String(released[..<cut])
        released = String.UnicodeScalarView(released[cut...])
        return output
    }

    private mutating func everything(stopped: Bool) -> Output {
        let output = Output(ids: unreleased.flatMap(\.ids) + undecoded, text: String(released), stopped: stopped)
        unreleased = []
        undecoded = []
        released = String.UnicodeScalarView()
        return output
    }
}
