public import NIOCore

/// Reconnect delays: exponential from `base`, capped at `max`. Jitter is applied by the caller so this
/// stays a pure function of the attempt number.
public struct Backoff: Sendable, Equatable {
    public var base: TimeAmount
    public var max: TimeAmount

    public init(base: TimeAmount = .milliseconds(100), max: TimeAmount = .seconds(5)) {
        self.base = base
        self.max = max
    }

    /// The delay before retry number `attempt` (1 = the first retry).
    public func delay(attempt: Int) -> TimeAmount {
        let doublings = Swift.min(Swift.max(attempt - 1, 0), 30)
        let nanoseconds = base.nanoseconds.multipliedReportingOverflow(by: Int64(1) << doublings)
        guard !nanoseconds.overflow else { return max }
        return .nanoseconds(Swift.min(nanoseconds.partialValue, max.nanoseconds))
    }
}
