@testable import Engine
import Testing

@Suite struct RealizedSpeedGuardTests {
    @Test func batchSizesShareBucketsByPowersOfTwo() {
        let buckets = [1, 2, 3, 4, 5, 8, 9, 16, 17, 32, 33, 256].map { RealizedSpeedGuard.bucket(decoding: $0) }
        #expect(buckets == [0, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])
    }

    /// Feeds `steps` steps at `decoding` requests; drafted steps make `draftedRate` tokens/s, plain ones
    /// `plainRate`. Returns how many steps were allowed to draft.
    func run(_ guard_: inout RealizedSpeedGuard, steps: Int, decoding: Int, draftedRate: Double, plainRate: Double) -> Int {
        var allowed = 0
        for _ in 0..<steps {
            let drafts = guard_.allowsDrafts(decoding: decoding)
            if drafts { allowed += 1 }
            let rate = drafts ? draftedRate : plainRate
            guard_.observe(decoding: decoding, drafted: drafts, tokens: 10, seconds: 10 / rate, expected: 10 / rate)
        }
        return allowed
    }

    @Test func whileLearningBothArmsAreTried() {
        var speed = RealizedSpeedGuard()
        let allowed = run(&speed, steps: 24, decoding: 4, draftedRate: 100, plainRate: 100)
        #expect(allowed > 12 && allowed < 24)
        #expect(speed.buckets[2].plain.samples >= RealizedSpeedGuard.minimumSamples)
        #expect(speed.buckets[2].drafted.samples >= RealizedSpeedGuard.minimumSamples)
    }

    @Test func draftsThatAreMeasuredSlowerStopExceptForProbes() {
        var speed = RealizedSpeedGuard()
        _ = run(&speed, steps: 32, decoding: 8, draftedRate: 70, plainRate: 100)
        let allowed = run(&speed, steps: 160, decoding: 8, draftedRate: 70, plainRate: 100)
        // 100 / 70: a probe every 16 · 1.43² = 32 steps.
        #expect(RealizedSpeedGuard.probeInterval(margin: 100.0 / 70) == 32)
        #expect(allowed == 160 / 32)
        // Another batch size has its own measurements: still learning.
        let learning = speed.allowsDrafts(decoding: 1)
        #expect(learning)
    }

    @Test func draftsThatAreMeasuredFasterStayOnWithPlainProbes() {
        var speed = RealizedSpeedGuard()
        _ = run(&speed, steps: 32, decoding: 1, draftedRate: 180, plainRate: 100)
        let allowed = run(&speed, steps: 160, decoding: 1, draftedRate: 180, plainRate: 100)
        // 1.8x: a probe every 16 · 1.8² = 51 steps.
        #expect(allowed == 160 - 160 / RealizedSpeedGuard.probeInterval(margin: 1.8))
    }

    @Test func theWiderTheMarginTheRarerTheProbes() {
        #expect(RealizedSpeedGuard.probeInterval(margin: 1) == RealizedSpeedGuard.probeInterval)
        #expect(RealizedSpeedGuard.probeInterval(margin: 1.1) == 19)
        #expect(RealizedSpeedGuard.probeInterval(margin: 2.8) == 125)
        #expect(RealizedSpeedGuard.probeInterval(margin: 4) == RealizedSpeedGuard.maximumProbeInterval)
        var speed = RealizedSpeedGuard()
        _ = run(&speed, steps: 32, decoding: 1, draftedRate: 280, plainRate: 100)
        let allowed = run(&speed, steps: 256, decoding: 1, draftedRate: 280, plainRate: 100)
        #expect(allowed == 256 - 2)
    }

    @Test func theVerdictFollowsAChange() {
        var speed = RealizedSpeedGuard()
        _ = run(&speed, steps: 64, decoding: 2, draftedRate: 150, plainRate: 100)
        // Contexts grew (or the machine got busy): drafted steps now lose; the probes notice.
        _ = run(&speed, steps: 400, decoding: 2, draftedRate: 80, plainRate: 100)
        let allowed = run(&speed, steps: 160, decoding: 2, draftedRate: 80, plainRate: 100)
        // 100 / 80: a probe every 16 · 1.25² = 25 steps, whatever the phase.
        #expect(allowed == 160 / 25 || allowed == 160 / 25 + 1)
    }

    @Test func unusableObservationsAreIgnored() {
        var speed = RealizedSpeedGuard()
        speed.observe(decoding: 0, drafted: true, tokens: 5, seconds: 1, expected: 1)
        speed.observe(decoding: 1, drafted: true, tokens: 5, seconds: 0, expected: 1)
        speed.observe(decoding: 1, drafted: false, tokens: 5, seconds: .infinity, expected: 1)
        #expect(speed.buckets.allSatisfy { $0.drafted.samples == 0 && $0.plain.samples == 0 })
    }

    /// A plain probe stalled for a time slice (5x its expected seconds) is left out, so drafting, measured
    /// slower, stays off but for probes; the same probe at under the stall ratio (2.9x) counts and flips
    /// the verdict for a while.
    @Test func aStalledStepIsLeftOut() {
        func allowedAfterSlowProbe(seconds: Double) -> (samples: Int, allowed: Int) {
            var speed = RealizedSpeedGuard()
            _ = run(&speed, steps: 32, decoding: 8, draftedRate: 90, plainRate: 100)
            let before = speed.buckets[3].plain.samples
            speed.observe(decoding: 8, drafted: false, tokens: 10, seconds: seconds, expected: 0.1)
            let added = speed.buckets[3].plain.samples - before
            return (added, run(&speed, steps: 32, decoding: 8, draftedRate: 90, plainRate: 100))
        }
        let stalled = allowedAfterSlowProbe(seconds: 0.5)
        #expect(stalled.samples == 0)
        #expect(stalled.allowed <= 2)
        let slow = allowedAfterSlowProbe(seconds: 0.29)
        #expect(slow.samples == 1)
        #expect(slow.allowed > 2)
    }
}
