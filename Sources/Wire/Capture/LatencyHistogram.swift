/// Durations in nanoseconds, kept as counts in log-linear buckets (32 per power of two: a quantile is
/// off by at most 1/32 of its value), so a long run takes fixed memory. Exact count, mean and maximum.
/// For the wire path's timing diagnostics (`SPECULA_WIRE_TIMING`) of the worker and the router.
public struct LatencyHistogram: Sendable {
    private static let subBuckets = 32
    private var counts = [Int](repeating: 0, count: 64 * LatencyHistogram.subBuckets)
    public private(set) var count = 0
    public private(set) var totalNanoseconds: Int64 = 0
    public private(set) var maxNanoseconds: Int64 = 0

    public init() {}

    public mutating func record(_ nanoseconds: Int64) {
        let value = max(0, nanoseconds)
        counts[Self.bucket(of: value)] += 1
        count += 1
        totalNanoseconds += value
        maxNanoseconds = max(maxNanoseconds, value)
    }

    public var meanNanoseconds: Double { count == 0 ? 0 : Double(totalNanoseconds) / Double(count) }

    /// The value below which a fraction `q` of the samples lie (a bucket's upper bound, capped at the
    /// maximum); 0 when empty.
    public func quantile(_ q: Double) -> Int64 {
        guard count > 0 else { return 0 }
        let rank = max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for (index, n) in counts.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return min(Self.upperBound(of: index), maxNanoseconds) }
        }
        return maxNanoseconds
    }

    /// Values below 32 get a bucket each; above, the top 6 significant bits pick one of 32 buckets
    /// per power of two.
    static func bucket(of value: Int64) -> Int {
        guard value >= Int64(subBuckets) else { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount          // ≥ 5
        let mantissa = Int(value >> (exponent - 5)) - subBuckets // 0..<32
        return (exponent - 4) * subBuckets + mantissa
    }

    static func upperBound(of index: Int) -> Int64 {
        guard index >= subBuckets else { return Int64(index) }
        let exponent = index / subBuckets + 4
        let mantissa = Int64(index % subBuckets + subBuckets)
        return ((mantissa + 1) << (exponent - 5)) - 1
    }

    /// `mean_us=… p50_us=… p90_us=… p99_us=… max_us=…`, with `name_` before each key.
    public func summary(_ name: String = "") -> String {
        let keys: [(String, Double)] = [("mean", meanNanoseconds), ("p50", Double(quantile(0.5))), ("p90", Double(quantile(0.9))),
                                        ("p99", Double(quantile(0.99))), ("max", Double(maxNanoseconds))]
        return keys.map { "\(name)\($0.0)_us=\(Self.microseconds($0.1))" }.joined(separator: " ")
    }

    /// Nanoseconds as microseconds with one decimal.
    public static func microseconds(_ nanoseconds: Double) -> String {
        let tenths = Int((nanoseconds / 100).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
