/// The last word on whether `auto` speculation pays: the decode speed the engine actually gets from
/// steps that verify drafts against steps that do not, at the same number of decoding requests.
///
/// The budget policy plans with estimates (the drafter's calibrated probabilities, the step-cost
/// curve). Where extra tokens cost almost what they can win (a small model whose steps are
/// compute-bound, or large batches) the estimates' errors decide, and a plan that looked good can lose.
/// This guard measures the outcome per batch-size bucket and per arm (drafted or plain): a moving
/// average of decode speed. When the drafted arm is measured slower, `auto` drafts are switched off
/// for that bucket; a probe step now and then still tries the arm not in use, so both measurements
/// stay current as contexts grow.
///
/// Speed is measured against the price of a plain step now (the corrected step-cost curve, which
/// follows the machine within a few dozen steps): a step that emits e tokens in t seconds, where a
/// plain step of its d requests is priced p, scores e·p/d over t. Raw tokens per second compared arms
/// measured at different times: the arm not in use is seen only on probes, hundreds of steps apart,
/// and this VM runs 1.5x slower for seconds to minutes at a time. A slow spell that began after the
/// last probe made the arm in use look worse than it was, and the guard switched arms for nothing.
///
/// Drafted steps win in bursts (a request copying a line: 6-8 tokens in one step, then nothing for
/// a while), so the average spans about 50 steps. At one or two requests drafts stay on unless
/// measured `tolerance` slower: there a step that drafts and keeps nothing costs about what a plain
/// one does (bundled model, batch 1), a quiet spell is a tie, and a tie settled for plain steps gave
/// up the next burst. From three requests on, a drafted step carries several times a plain step's
/// tokens (bundled model, batch 16: 33-81 drafts on 16 tokens), so a tie there is a loss waiting to
/// happen and goes to plain steps: drafts must measure `requiredMargin` faster. Kept at ties, drafts
/// ran nearly every step of the bundled model at batch 16 on code-short (3 tokens per step) and
/// `auto` was 0.97-0.985x `off`.
///
/// Probes are rarer the wider the measured margin: a probe step costs the margin, and a wide one
/// takes long to close (1B shape, batch 1: drafted steps ran at 2.8x plain ones, so a plain probe
/// every 16 steps gave up about 4%). They also back off: each probe step whose own speed upholds the
/// verdict doubles the interval, up to `maximumBackedOffInterval`. Where drafts can never win
/// (bundled model, batch 16) a drafted probe every 17–19 steps cost about 2% of the run, and the 30th
/// said what the first did. A probe that argues against the verdict, or a verdict that turns, starts
/// over at the short interval, so a few quick probes can move the average.
///
/// A step that samples the drafted arm against the verdict (while learning, or a probe) has every
/// `auto` request draft, whatever its `DraftBackoff` says (`samplesDrafts`). Otherwise a request
/// backing off spent the probe as one of its skipped steps: at batch 1 on the bundled model, two
/// trees turned down in the first steps of a run put the request into back-off, the learning steps and
/// then every probe drafted nothing, each such plain step upheld the verdict for plain decoding, and
/// `auto` ran plain for 3500 of 5600 steps (1.08x `off` where other runs of it made 1.25-1.4x).
struct RealizedSpeedGuard {
    /// Plain-step seconds' worth of tokens emitted, and seconds taken, decayed per observation: their
    /// ratio is a recent speed relative to plain decoding's predicted speed.
    struct Rate {
        var work = 0.0
        var seconds = 0.0
        var samples = 0

        var value: Double { seconds > 0 ? work / seconds : 0 }
        /// Whether the arm has enough samples for the comparison to be trusted.
        var learned: Bool { samples >= RealizedSpeedGuard.minimumSamples }

        mutating func add(work: Double, seconds: Double) {
            self.work = RealizedSpeedGuard.decay * self.work + work
            self.seconds = RealizedSpeedGuard.decay * self.seconds + seconds
            samples += 1
        }
    }

    struct Bucket {
        var drafted = Rate()
        var plain = Rate()
        var steps = 0
        var sinceProbe = 0
        /// Probes in a row whose speed upheld the verdict; each doubles the interval.
        var heldProbes = 0
        /// The verdict (drafts win) at the last step, to start probing over when it turns.
        var draftsWon: Bool?
        /// A drafted probe in progress at one request (see `draftProbeSteps`).
        var probe: Probe?

        /// Samples the drafted arm needs before the comparison is trusted (`draftedSamples(bucket:)`).
        var draftedSamples = RealizedSpeedGuard.minimumSamples

        var draftedLearned: Bool { drafted.samples >= draftedSamples }
        /// Whether both arms have their samples: until then the arms take turns.
        var learned: Bool { draftedLearned && plain.learned }
    }

    /// The steps of a drafted probe still to run, and the work and seconds of those that ran.
    struct Probe {
        var stepsLeft: Int
        var work = 0.0
        var seconds = 0.0
    }

    /// Steps a probe of the drafted arm runs at one request, judged together. There a drafted step
    /// wins in bursts (most keep nothing, a few emit 6-8 tokens), so one step upholds a verdict for
    /// plain decoding most of the time even where drafts win on average, and each such probe doubled
    /// the wait for the next: in two traced runs at batch 1 (bundled model, code-short) the guard stayed
    /// plain for 4500 of 5850 and 7000 of 7580 steps while the drafted steps ran 11-12% faster.
    static let draftProbeSteps = 8
    /// Weight of the past per observation (about the last 50 steps of an arm count).
    static let decay = 0.98
    /// How much slower the drafted arm may measure and still be used at one or two requests: ties go
    /// to the policy's plan.
    static let tolerance = 0.02
    /// How much faster the drafted arm must measure to be used at three requests or more.
    static let requiredMargin = 0.01

    /// The drafted arm's speed, as a fraction of the plain arm's, at which drafts start to win.
    static func threshold(bucket: Int) -> Double {
        bucket <= 1 ? 1 - tolerance : 1 + requiredMargin
    }
    /// Observations each arm needs before the comparison is trusted (the drafted arm at one request:
    /// `draftedSamples(bucket:)`). Few, because learning is paid for: half its steps take the losing
    /// arm, and a batch of 16 requests of 64 tokens lasts only about 64 steps (1B shape: with 6
    /// samples and one plain step in four, learning alone lost 5%).
    static let minimumSamples = 4
    /// Steps between probes of the arm the comparison does not favour, when the two are close; the
    /// interval grows with the square of their ratio, up to `maximumProbeInterval`.
    static let probeInterval = 16
    static let maximumProbeInterval = 128
    /// The longest interval held probes back off to: a losing arm's probes then cost under 1% even
    /// when each costs a whole step, and a verdict gone stale (drafts start to win as contexts grow) is
    /// noticed within a few hundred steps.
    static let maximumBackedOffInterval = 256

    /// Steps between probes when the faster arm is `margin` (≥ 1) times the slower.
    static func probeInterval(margin: Double) -> Int {
        Int(min(Double(probeInterval) * margin * margin, Double(maximumProbeInterval)))
    }

    /// Steps between probes at `margin`, after `held` probes in a row upheld the verdict.
    static func probeInterval(margin: Double, held: Int) -> Int {
        let base = probeInterval(margin: margin)
        return min(base << min(held, 8), max(base, maximumBackedOffInterval))
    }

    private(set) var buckets = (0..<7).map { Bucket(draftedSamples: draftedSamples(bucket: $0)) }

    /// At one request the drafted arm is learned over as many steps as a probe of it runs: drafted
    /// steps win in bursts there. With four, the 1B shape's first run of drafted steps at batch 1
    /// accepted nothing four times in a row (the first tokens of a prompt), plain decoding won,
    /// and the first probe came 44 steps later: 12% of a run of 16 prompts of 64 tokens decoded plainly
    /// at half the drafted speed.
    static func draftedSamples(bucket: Int) -> Int {
        bucket == 0 ? draftProbeSteps : minimumSamples
    }

    /// Whether the last `allowsDrafts` allowed drafts to sample the drafted arm rather than as the verdict.
    private(set) var samplesDrafts = false

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
        if !bucket.learned {
            // Learning: the arms take turns until each has its samples.
            let drafts = bucket.plain.learned || (!bucket.draftedLearned && buckets[b].steps % 2 == 1)
            samplesDrafts = drafts
            return drafts
        }
        let fast = max(bucket.drafted.value, bucket.plain.value), slow = min(bucket.drafted.value, bucket.plain.value)
        let draftsWin = Self.draftsWin(bucket, at: b)
        if bucket.draftsWon != draftsWin {
            buckets[b].draftsWon = draftsWin
            buckets[b].heldProbes = 0
            buckets[b].sinceProbe = 0
            buckets[b].probe = nil
        }
        if buckets[b].probe != nil {
            samplesDrafts = true
            return true
        }
        buckets[b].sinceProbe += 1
        let interval = Self.probeInterval(margin: slow > 0 ? fast / slow : 8, held: buckets[b].heldProbes)
        let probe = buckets[b].sinceProbe >= interval
        if probe { buckets[b].sinceProbe = 0 }
        samplesDrafts = probe && !draftsWin
        if samplesDrafts && b == 0 { buckets[b].probe = Probe(stepsLeft: Self.draftProbeSteps) }
        return draftsWin != probe
    }

    static func draftsWin(_ bucket: Bucket, at b: Int) -> Bool {
        draftsWin(drafted: bucket.drafted.value, plain: bucket.plain.value, at: b)
    }

    /// The verdict between two speeds in bucket `b` (see `threshold(bucket:)`).
    static func draftsWin(drafted: Double, plain: Double, at b: Int) -> Bool {
        drafted >= threshold(bucket: b) * plain
    }

    /// A step that took more than this many times its expected seconds was stalled by something else.
    static let stallRatio = 3.0

    /// Records a decode-only step: whether it verified drafts, tokens emitted, seconds including
    /// drafting, the seconds the step-cost model expected of it (drafting included), and the seconds
    /// it prices a plain step of the same requests at now.
    ///
    /// A stalled step is left out: on a shared machine a compute thread descheduled for a time slice
    /// costs a small model's step several times over (bundled model, batch 8: 6 ms against 1.2 ms, about
    /// one step in a hundred). Such a step says nothing about either arm, and in the arm that only
    /// probes see, one of them outweighed every other sample for hundreds of steps: two stalled plain
    /// probes made drafting look 25% faster for a whole run where it was 5% slower.
    mutating func observe(decoding: Int, drafted: Bool, tokens: Int, seconds: Double, expected: Double,
                          plainSeconds: Double) {
        guard decoding > 0, seconds > 0, seconds.isFinite, plainSeconds > 0, plainSeconds.isFinite else { return }
        if expected > 0 && seconds > Self.stallRatio * expected { return }
        let b = Self.bucket(decoding: decoding)
        let bucket = buckets[b]
        let work = Double(tokens) * plainSeconds / Double(decoding)
        if bucket.learned {
            let draftsWin = Self.draftsWin(bucket, at: b)
            if drafted != draftsWin {
                // A probe: judged by its own speed, not the average it moves only a little (a drafted
                // probe of several steps once they have all run).
                var speed = work / seconds
                if drafted, var probe = bucket.probe {
                    probe.stepsLeft -= 1
                    probe.work += work
                    probe.seconds += seconds
                    buckets[b].probe = probe.stepsLeft > 0 ? probe : nil
                    speed = probe.work / probe.seconds
                }
                if buckets[b].probe == nil {
                    let upholds = drafted ? !Self.draftsWin(drafted: speed, plain: bucket.plain.value, at: b)
                        : Self.draftsWin(drafted: bucket.drafted.value, plain: speed, at: b)
                    buckets[b].heldProbes = upholds ? bucket.heldProbes + 1 : 0
                }
            }
        }
        if drafted {
            buckets[b].drafted.add(work: work, seconds: seconds)
        } else {
            buckets[b].plain.add(work: work, seconds: seconds)
        }
    }
}
