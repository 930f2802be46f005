/// The last word on whether `auto` speculation pays: the decode speed the engine actually gets from
/// steps that verify drafts against steps that do not, at the same number of decoding requests.
///
/// The budget policy plans with estimates (the drafter's calibrated probabilities, the step-cost
/// curve). Where extra tokens cost almost what they can win (a small model whose steps are
/// compute-bound, or large batches) the estimates' errors decide, and a plan that looked good can lose.
/// This guard measures the outcome: tokens per second of decode-only steps, as a moving average per
/// batch-size bucket and per arm (drafted or plain). When the drafted arm is measured slower, `auto`
/// drafts are switched off for that bucket; a probe step now and then still tries the arm not in
/// use, so both measurements stay current as contexts grow or the machine's load changes. Probes are
/// rarer the wider the measured margin: a probe step costs the margin, and a wide one takes long to
/// close (1B shape, batch 1: drafted steps ran at 2.8x plain ones, so a plain probe every 16 steps
/// gave up about 4%).
struct RealizedSpeedGuard {
    /// Tokens and seconds, decayed per observation: their ratio is a recent tokens-per-second.
    struct Rate {
        var tokens = 0.0
        var seconds = 0.0
        var samples = 0

        var value: Double { seconds > 0 ? tokens / seconds : 0 }

        mutating func add(tokens: Int, seconds: Double) {
            self.tokens = RealizedSpeedGuard.decay * self.tokens + Double(tokens)
            self.seconds = RealizedSpeedGuard.decay * self.seconds + seconds
            samples += 1
        }
    }

    struct Bucket {
        var drafted = Rate()
        var plain = Rate()
        var steps = 0
        var sinceProbe = 0
    }

    /// Weight of the past per observation (about the last 20 steps of an arm count).
    static let decay = 0.95
    /// Observations each arm needs before the comparison is trusted. Few, because learning is paid
    /// for: half its steps take the losing arm, and a batch of 16 requests of 64 tokens lasts only
    /// about 64 steps (1B shape: with 6 samples and one plain step in four, learning alone lost 5%).
    static let minimumSamples = 4
    /// Steps between probes of the arm the comparison does not favour, when the two are close; the
    /// interval grows with the square of their ratio, up to `maximumProbeInterval`.
    static let probeInterval = 16
    static let maximumProbeInterval = 128

    /// Steps between probes when the faster arm is `margin` (≥ 1) times the slower.
    static func probeInterval(margin: Double) -> Int {
        Int(min(Double(probeInterval) * margin * margin, Double(maximumProbeInterval)))
    }

    private(set) var buckets = Array(repeating: Bucket(), count: 7)

    /// Buckets of decoding requests: 1, 2, 3–4, 5–8, 9–16, 17–32, more.
    static func bucket(decoding d: Int) -> Int {
        var b = 0
        var limit = 1
        while d > limit && b < 6 {
            limit *= 2
            b += 1
        }
        return b
    }

    /// Whether `auto` requests may draft in this step, with `decoding` requests decoding.
    mutating func allowsDrafts(decoding: Int) -> Bool {
        let b = Self.bucket(decoding: decoding)
        buckets[b].steps += 1
        let bucket = buckets[b]
        if bucket.drafted.samples < Self.minimumSamples || bucket.plain.samples < Self.minimumSamples {
            // Learning: the arms take turns until each has its samples.
            if bucket.plain.samples >= Self.minimumSamples { return true }
            if bucket.drafted.samples >= Self.minimumSamples { return false }
            return buckets[b].steps % 2 == 1
        }
        let fast = max(bucket.drafted.value, bucket.plain.value), slow = min(bucket.drafted.value, bucket.plain.value)
        buckets[b].sinceProbe += 1
        let probe = buckets[b].sinceProbe >= Self.probeInterval(margin: slow > 0 ? fast / slow : 8)
        if probe { buckets[b].sinceProbe = 0 }
        let draftsWin = bucket.drafted.value >= bucket.plain.value
        return draftsWin != probe
    }

    /// A step that took more than this many times its expected seconds was stalled by something else.
    static let stallRatio = 3.0

    /// Records a decode-only step: whether it verified drafts, tokens emitted, seconds including
    /// drafting, and the seconds the step-cost model expected of it (drafting included).
    ///
    /// A stalled step is left out: on a shared machine a compute thread descheduled for a time slice
    /// costs a small model's step several times over (bundled model, batch 8: 6 ms against 1.2 ms, about
    /// one step in a hundred). Such a step says nothing about either arm, and in the arm that only
    /// probes see, one of them outweighed every other sample for hundreds of steps: two stalled plain
    /// probes made drafting look 25% faster for a whole run where it was 5% slower.
    mutating func observe(decoding: Int, drafted: Bool, tokens: Int, seconds: Double, expected: Double) {
        guard decoding > 0, seconds > 0, seconds.isFinite else { return }
        if expected > 0 && seconds > Self.stallRatio * expected { return }
        let b = Self.bucket(decoding: decoding)
        if drafted {
            buckets[b].drafted.add(tokens: tokens, seconds: seconds)
        } else {
            buckets[b].plain.add(tokens: tokens, seconds: seconds)
        }
    }
}
