import NIOCore

/// Rapid-reset protection (CVE-2023-44487): a token bucket of client `RST_STREAM` frames per
/// connection. It starts full with ``HTTPLimits/resetBurst`` tokens and regains
/// ``HTTPLimits/resetsPerSecond``; each reset takes one, and a reset finding the bucket empty ends the
/// connection. Time comes from the caller (the event loop's clock), so it is tested as a value.
struct ResetRateLimiter: Sendable {
    private let burst: Double
    private let perNanosecond: Double
    private var tokens: Double
    private var last: NIODeadline?

    init(burst: Int, perSecond: Int) {
        self.burst = Double(burst)
        perNanosecond = Double(perSecond) / 1e9
        tokens = Double(burst)
    }

    /// Takes a token for a reset at `now`; false when there was none (the client resets too fast).
    mutating func allowReset(at now: NIODeadline) -> Bool {
        if let last, now > last {
            tokens = min(burst, tokens + Double((now - last).nanoseconds) * perNanosecond)
        }
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
