@testable import Engine
import Testing

@Suite struct RealizedSpeedGuardTests {
    @Test func batchSizesShareBucketsByPowersOfTwo() {
        let buckets = [1, 2, 3, 4, 5, 8, 9, 16, 17, 32, 33, 256].map { RealizedSpeedGuard.bucket(decoding: $0) }
        #expect(buckets == [0, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])
    }

    /// A plain step of `decoding` requests priced at 100 tokens/s: the guard's speeds are then rates / 100.
    func plainSeconds(_ decoding: Int) -> Double { Double(decoding) / 100 }

    /// Feeds `steps` steps at `decoding` requests; drafted steps make `draftedRate` tokens/s, plain ones
    /// `plainRate`. Returns how many steps were allowed to draft.
    func run(_ guard_: inout RealizedSpeedGuard, steps: Int, decoding: Int, draftedRate: Double, plainRate: Double) -> Int {
        var allowed = 0
        for _ in 0..<steps {
            let drafts = guard_.allowsDrafts(decoding: decoding)
            if drafts { allowed += 1 }
            let rate = drafts ? draftedRate : plainRate
            guard_.observe(decoding: decoding, drafted: drafts, tokens: 10, seconds: 10 / rate, expected: 10 / rate,
                           plainSeconds: plainSeconds(decoding))
        }
        return allowed
    }

    @Test func whileLearningBothArmsAreTried() {
        var speed = RealizedSpeedGuard()
        let allowed = run(&speed, steps: 24, decoding: 4, draftedRate: 100, plainRate: 100)
        #expect(allowed >= RealizedSpeedGuard.minimumSamples && allowed < 24)
        #expect(speed.buckets[2].plain.samples >= RealizedSpeedGuard.minimumSamples)
        #expect(speed.buckets[2].drafted.samples >= RealizedSpeedGuard.minimumSamples)
    }

    /// Step indices (from 0) at which the arm opposite to `expectDrafts` ran.
    func probes(_ guard_: inout RealizedSpeedGuard, steps: Int, decoding: Int, draftedRate: Double, plainRate: Double,
                expectDrafts: Bool) -> [Int] {
        var found: [Int] = []
        for i in 0..<steps {
            let drafts = guard_.allowsDrafts(decoding: decoding)
            if drafts != expectDrafts { found.append(i) }
            let rate = drafts ? draftedRate : plainRate
            guard_.observe(decoding: decoding, drafted: drafts, tokens: 10, seconds: 10 / rate, expected: 10 / rate,
                           plainSeconds: plainSeconds(decoding))
        }
        return found
    }

    func gaps(_ steps: [Int]) -> [Int] { zip(steps.dropFirst(), steps).map { $0 - $1 } }

    @Test func draftsThatAreMeasuredSlowerStopExceptForProbes() {
        var speed = RealizedSpeedGuard()
        _ = run(&speed, steps: 32, decoding: 8, draftedRate: 70, plainRate: 100)
        let drafted = probes(&speed, steps: 1000, decoding: 8, draftedRate: 70, plainRate: 100, expectDrafts: false)
        // 100 / 70: a probe after 16 · 1.43² = 32 steps; each probe that upholds the verdict doubles the
        // interval, up to 256 steps.
        #expect(RealizedSpeedGuard.probeInterval(margin: 100.0 / 70) == 32)
        #expect(gaps(drafted) == [64, 128, 256, 256, 256])
        // Another batch size has its own measurements: still learning.
        let learning = speed.allowsDrafts(decoding: 1)
        #expect(learning)
    }

    /// Steps that sample the drafted arm against the verdict say so (their requests then draft whatever
    /// their back-off says); steps that draft because drafts won do not.
    @Test func stepsThatSampleTheDraftedArmSaySo() {
        var speed = RealizedSpeedGuard()
        for _ in 0..<8 {
            let drafts = speed.allowsDrafts(decoding: 1)
            #expect(speed.samplesDrafts == drafts, "learning")
            speed.observe(decoding: 1, drafted: drafts, tokens: 10, seconds: 10 / (drafts ? 70 : 100), expected: 0.1,
                          plainSeconds: plainSeconds(1))
        }
        var sampled: [Int] = []
        for i in 0..<100 {
            let drafts = speed.allowsDrafts(decoding: 1)
            #expect(speed.samplesDrafts == drafts, "plain won: only probes draft, and they sample")
            if drafts { sampled.append(i) }
            speed.observe(decoding: 1, drafted: drafts, tokens: 10, seconds: 10 / (drafts ? 70 : 100), expected: 0.1,
                          plainSeconds: plainSeconds(1))
        }
        #expect(!sampled.isEmpty)
        var fast = RealizedSpeedGuard()
        _ = run(&fast, steps: 32, decoding: 1, draftedRate: 180, plainRate: 100)
        for _ in 0..<100 {
            let drafts = fast.allowsDrafts(decoding: 1)
            #expect(!fast.samplesDrafts, "drafts won: they are the verdict, not a sample")
            fast.observe(decoding: 1, drafted: drafts, tokens: 10, seconds: 10 / (drafts ? 180 : 100), expected: 0.1,
                         plainSeconds: plainSeconds(1))
        }
    }

    /// At one request drafted steps win in bursts. Here, after a start that saw only misses, three
    /// drafted steps in four are misses (0.7 of a plain step's speed) and the fourth emits 5x the
    /// tokens in 1.4x the time: on average drafts are 1.35x faster. One step at a time, three probes in
    /// four upheld the plain verdict and doubled the wait for the next; a run of steps sees the bursts.
    @Test func burstyDraftsAreProbedInRunsAndWin() {
        var speed = RealizedSpeedGuard()
        _ = run(&speed, steps: 8, decoding: 1, draftedRate: 70, plainRate: 100)
        var draftedSteps = 0
        var allowed = 0
        for _ in 0..<600 {
            let drafts = speed.allowsDrafts(decoding: 1)
            var tokens = 10, seconds = 0.1
            if drafts {
                allowed += 1
                draftedSteps += 1
                let burst = draftedSteps % 4 == 0
                tokens = burst ? 50 : 10
                seconds = burst ? 0.14 : 10 / 70.0
            }
            speed.observe(decoding: 1, drafted: drafts, tokens: tokens, seconds: seconds, expected: seconds,
                          plainSeconds: plainSeconds(1))
        }
        #expect(allowed > 500, "drafts won within the first probes")
    }

    /// At one request the first drafted steps of a run often keep nothing (the first tokens after a
    /// prompt), and drafted steps win in bursts. Four misses in a row must not settle the verdict: the
    /// drafted arm is learned over as many steps as a probe runs, and here the next four are bursts.
    @Test func oneRequestLearnsTheDraftedArmOverAProbesWorthOfSteps() {
        var speed = RealizedSpeedGuard()
        var drafted = 0
        for _ in 0..<(2 * RealizedSpeedGuard.draftProbeSteps + 8) {
            let drafts = speed.allowsDrafts(decoding: 1)
            var tokens = 10, seconds = 0.1  // plain: 100 tokens/s
            if drafts {
                drafted += 1
                // Four misses at 0.8 of the plain speed, then bursts at 3x.
                (tokens, seconds) = drafted <= 4 ? (10, 0.125) : (30, 0.1)
            }
            speed.observe(decoding: 1, drafted: drafts, tokens: tokens, seconds: seconds, expected: seconds,
                          plainSeconds: plainSeconds(1))
        }
        #expect(speed.buckets[0].learned)
        #expect(speed.buckets[0].drafted.samples >= RealizedSpeedGuard.draftProbeSteps)
        #expect(speed.allowsDrafts(decoding: 1) && !speed.samplesDrafts, "drafts won")
    }

    @Test func draftsThatAreMeasuredFasterStayOnWithPlainProbes() {
        var speed = RealizedSpeedGuard()
        _ = run(&speed, steps: 32, decoding: 1, draftedRate: 180, plainRate: 100)
        let plain = probes(&speed, steps: 600, decoding: 1, draftedRate: 180, plainRate: 100, expectDrafts: true)
        // 1.8x: a probe after 16 · 1.8² = 51 steps, then 102, 204, 256.
        #expect(RealizedSpeedGuard.probeInterval(margin: 1.8) == 51)
        #expect(gaps(plain) == [102, 204, 256])
    }

    @Test func theWiderTheMarginTheRarerTheProbes() {
        #expect(RealizedSpeedGuard.probeInterval(margin: 1) == RealizedSpeedGuard.probeInterval)
        #expect(RealizedSpeedGuard.probeInterval(margin: 1.1) == 19)
        #expect(RealizedSpeedGuard.probeInterval(margin: 2.8) == 125)
        #expect(RealizedSpeedGuard.probeInterval(margin: 4) == RealizedSpeedGuard.maximumProbeInterval)
        #expect(RealizedSpeedGuard.probeInterval(margin: 1.1, held: 2) == 76)
        #expect(RealizedSpeedGuard.probeInterval(margin: 1.1, held: 40) == RealizedSpeedGuard.maximumBackedOffInterval)
        var speed = RealizedSpeedGuard()
        _ = run(&speed, steps: 32, decoding: 1, draftedRate: 280, plainRate: 100)
        let allowed = run(&speed, steps: 256, decoding: 1, draftedRate: 280, plainRate: 100)
        // 125 steps, then 250.
        #expect(allowed == 256 - 1)
    }

    @Test func theVerdictFollowsAChange() {
        var speed = RealizedSpeedGuard()
        _ = run(&speed, steps: 1000, decoding: 2, draftedRate: 150, plainRate: 100)
        // Contexts grew: drafted steps now lose. They are the arm in use, so the verdict turns within
        // about 50 steps (the average's memory), and probing starts over at the short interval.
        let drafted = probes(&speed, steps: 400, decoding: 2, draftedRate: 80, plainRate: 100, expectDrafts: false)
        let turn = drafted.enumerated().first { $0.offset != $0.element }?.offset ?? drafted.count
        let probed = Array(drafted.dropFirst(turn))
        #expect(turn > 0 && turn <= 50)
        #expect(probed.first.map { $0 - drafted[turn - 1] } ?? 0 <= 20)
        #expect(probed.count >= 3 && gaps(probed) == gaps(probed).sorted())
    }

    /// The price of backing off: with plain steps long the winner, drafts that start to win (a request
    /// that repeats itself) are noticed at the next probe, up to 256 steps later. That probe measures
    /// drafts faster, so probing starts over at the short interval until the average turns.
    @Test func aStaleVerdictIsNoticedAtTheNextProbe() {
        var speed = RealizedSpeedGuard()
        _ = run(&speed, steps: 1000, decoding: 4, draftedRate: 80, plainRate: 100)
        let plain = probes(&speed, steps: 400, decoding: 4, draftedRate: 150, plainRate: 100, expectDrafts: true)
        let plainSet = Set(plain)
        let firstProbe = (0..<400).first { !plainSet.contains($0) } ?? 400
        let turned = (0..<400).first { t in (t..<t + 16).allSatisfy { !plainSet.contains($0) } } ?? 400
        #expect(firstProbe <= RealizedSpeedGuard.maximumBackedOffInterval)
        #expect(turned - firstProbe <= 6 * 2 * RealizedSpeedGuard.probeInterval)
        #expect(plain.filter { $0 >= turned }.count <= 3)
    }

    /// The machine slows down 1.5x for a while (the step-cost model follows it, so plain steps are
    /// priced 1.5x too): drafts that won keep winning. Raw tokens per second compared the slowed
    /// drafted steps with plain ones last measured before the spell, and switched drafts off.
    @Test func aSlowSpellChangesNoVerdict() {
        var speed = RealizedSpeedGuard()
        _ = run(&speed, steps: 200, decoding: 4, draftedRate: 120, plainRate: 100)
        var allowed = 0
        for _ in 0..<200 {
            let drafts = speed.allowsDrafts(decoding: 4)
            if drafts { allowed += 1 }
            let seconds = 1.5 * 10 / (drafts ? 120 : 100)
            speed.observe(decoding: 4, drafted: drafts, tokens: 10, seconds: seconds, expected: seconds,
                          plainSeconds: 1.5 * plainSeconds(4))
        }
        #expect(allowed >= 198)
    }

    /// Drafts that measure no slower than plain steps (a quiet spell between bursts) stay on, and so do
    /// drafts within the tolerance; past it they go off.
    @Test func aTieGoesToTheDrafts() {
        for (rate, on) in [(100.0, true), (98.5, true), (96.0, false)] {
            var speed = RealizedSpeedGuard()
            _ = run(&speed, steps: 50, decoding: 2, draftedRate: rate, plainRate: 100)
            let allowed = run(&speed, steps: 100, decoding: 2, draftedRate: rate, plainRate: 100)
            #expect(on ? allowed >= 96 : allowed <= 4, "drafted at \(rate)")
        }
    }

    /// From three requests on, a drafted step carries several plain steps' worth of tokens: a tie there
    /// goes to plain steps, and drafts must measure `requiredMargin` faster.
    @Test func atLargerBatchesATieGoesToPlainSteps() {
        for (decoding, rate, on) in [(4, 100.0, false), (16, 100.0, false), (16, 100.5, false), (16, 102.0, true),
                                     (32, 103.0, true)] {
            var speed = RealizedSpeedGuard()
            _ = run(&speed, steps: 50, decoding: decoding, draftedRate: rate, plainRate: 100)
            let allowed = run(&speed, steps: 100, decoding: decoding, draftedRate: rate, plainRate: 100)
            #expect(on ? allowed >= 96 : allowed <= 8, "batch \(decoding), drafted at \(rate): \(allowed)")
        }
        #expect(RealizedSpeedGuard.threshold(bucket: RealizedSpeedGuard.bucket(decoding: 2)) < 1)
        #expect(RealizedSpeedGuard.threshold(bucket: RealizedSpeedGuard.bucket(decoding: 3)) > 1)
    }

    @Test func unusableObservationsAreIgnored() {
        var speed = RealizedSpeedGuard()
        speed.observe(decoding: 0, drafted: true, tokens: 5, seconds: 1, expected: 1, plainSeconds: 1)
        speed.observe(decoding: 1, drafted: true, tokens: 5, seconds: 0, expected: 1, plainSeconds: 1)
        speed.observe(decoding: 1, drafted: false, tokens: 5, seconds: .infinity, expected: 1, plainSeconds: 1)
        speed.observe(decoding: 1, drafted: false, tokens: 5, seconds: 1, expected: 1, plainSeconds: 0)
        #expect(speed.buckets.allSatisfy { $0.drafted.samples == 0 && $0.plain.samples == 0 })
    }

    /// A plain probe stalled for a time slice (5x its expected seconds) is left out, so drafting, measured
    /// slower, stays off but for probes; the same probe at under the stall ratio (2.9x) counts and flips
    /// the verdict for a while.
    @Test func aStalledStepIsLeftOut() {
        func allowedAfterSlowProbe(seconds: Double) -> (samples: Int, allowed: Int) {
            var speed = RealizedSpeedGuard()
            _ = run(&speed, steps: 32, decoding: 8, draftedRate: 95, plainRate: 100)
            let before = speed.buckets[3].plain.samples
            speed.observe(decoding: 8, drafted: false, tokens: 10, seconds: seconds, expected: 0.1, plainSeconds: 0.08)
            let added = speed.buckets[3].plain.samples - before
            return (added, run(&speed, steps: 32, decoding: 8, draftedRate: 95, plainRate: 100))
        }
        let stalled = allowedAfterSlowProbe(seconds: 0.5)
        #expect(stalled.samples == 0)
        #expect(stalled.allowed <= 2)
        let slow = allowedAfterSlowProbe(seconds: 0.29)
        #expect(slow.samples == 1)
        #expect(slow.allowed > 2)
    }
}
