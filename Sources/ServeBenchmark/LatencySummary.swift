/// Mean, median, standard deviation and the 90th and 99th percentiles of a set of samples, as
/// `vllm bench serve` reports them (population standard deviation and linearly interpolated
/// percentiles, numpy's defaults). All zero for no samples, as vLLM prints.
public struct LatencySummary: Sendable, Equatable {
    public var mean = 0.0
    public var median = 0.0
    public var std = 0.0
    public var p90 = 0.0
    public var p99 = 0.0
    public var count = 0

    public init(_ samples: [Double]) {
        guard !samples.isEmpty else { return }
        let sorted = samples.sorted()
        count = sorted.count
        mean = sorted.reduce(0, +) / Double(count)
        std = (sorted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count)).squareRoot()
        median = Self.percentile(sorted, 50)
        p90 = Self.percentile(sorted, 90)
        p99 = Self.percentile(sorted, 99)
    }

    /// The `p`th percentile of sorted samples, interpolating between the two nearest ranks.
    public static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        precondition(!sorted.isEmpty)
        let rank = p / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - Double(lower))
    }

    /// Each value scaled (seconds → milliseconds).
    public func scaled(by factor: Double) -> LatencySummary {
        var copy = self
        copy.mean *= factor
        copy.median *= factor
        copy.std *= factor
        copy.p90 *= factor
        copy.p99 *= factor
        return copy
    }
}
