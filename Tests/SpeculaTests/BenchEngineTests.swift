@testable import specula
import Testing

@Suite struct BenchEngineTests {
    /// Each round's ratio is taken against the off run beside it, so a round in which the machine ran
    /// slow for both modes counts like any other, and one odd round moves nothing.
    @Test func thePairedRatioIsTheMedianOfEachRoundsRatio() {
        let off = [100.0, 60, 100, 100, 100]
        let auto = [110.0, 66, 150, 105, 90]
        #expect(BenchEngine.pairedMedian(auto, over: off) == 1.1)
        #expect(abs(BenchEngine.pairedMedian([120, 90], over: [100, 100])! - 1.05) < 1e-12)
        #expect(BenchEngine.pairedMedian([], over: []) == nil)
        #expect(BenchEngine.pairedMedian([50], over: [0]) == nil)
    }
}
