import Foundation

/// How requests are sent: a closed loop keeping N in flight (a finished request's place goes to the
/// next prompt at once), or an open loop with Poisson arrivals at R requests per second, whatever the
/// server's state (the seed makes the arrival times repeatable).
public enum LoadShape: Sendable, Equatable, CustomStringConvertible {
    case concurrency(Int)
    case rate(Double, seed: UInt64)

    public var description: String {
        switch self {
        case .concurrency(let count): "concurrency \(count)"
        case .rate(let rate, let seed): "Poisson arrivals at \(rate) req/s (seed \(seed))"
        }
    }
}

/// Exponentially distributed gaps between arrivals (a Poisson process), from a seeded generator.
public struct PoissonArrivals: Sendable {
    public let rate: Double
    private var generator: SplitMix64

    public init(rate: Double, seed: UInt64) {
        precondition(rate > 0)
        self.rate = rate
        generator = SplitMix64(seed: seed)
    }

    /// Seconds until the next arrival.
    public mutating func nextGap() -> Double {
        let uniform = Double(generator.next() >> 11) / Double(1 << 53)  // [0, 1)
        return -log(1 - uniform) / rate
    }

    /// Arrival offsets from the start for `count` requests; the first one at 0, as vLLM sends it.
    public mutating func offsets(count: Int) -> [Double] {
        var time = 0.0
        return (0..<count).map { index in
            if index > 0 { time += nextGap() }
            return time
        }
    }
}

/// Steele, Lea and Flood's SplitMix64: small, fast, and the same sequence on every platform.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
