import Testing
import Wire

@Suite("Latency histogram")
struct LatencyHistogramTests {
    @Test func quantilesAreWithinOneThirtySecondOfTheExactValue() {
        var histogram = LatencyHistogram()
        let samples = (1...10_000).map { Int64($0) * 997 % 5_000_000 }
        for sample in samples { histogram.record(sample) }
        let sorted = samples.sorted()
        for q in [0.5, 0.9, 0.99] {
            let exact = sorted[Int((q * Double(sorted.count)).rounded(.up)) - 1]
            let estimate = histogram.quantile(q)
            #expect(estimate >= exact && Double(estimate - exact) <= Double(exact) / 32 + 1, "q\(q): \(estimate) vs \(exact)")
        }
        #expect(histogram.count == 10_000 && histogram.maxNanoseconds == sorted.last)
        #expect(histogram.meanNanoseconds == Double(samples.reduce(0, +)) / 10_000)
    }

    @Test func smallValuesAreExactAndTheSummaryNamesEachFigure() {
        var histogram = LatencyHistogram()
        #expect(histogram.quantile(0.5) == 0)
        for value: Int64 in [3, 3, 7, 31, 1_500] { histogram.record(value) }
        #expect(histogram.quantile(0.5) == 7)
        #expect(histogram.quantile(1) == 1_500)
        #expect(histogram.summary("x_") == "x_mean_us=0.3 x_p50_us=0.0 x_p90_us=1.5 x_p99_us=1.5 x_max_us=1.5")
    }
}
