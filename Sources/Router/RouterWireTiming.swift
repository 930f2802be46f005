import NIOCore
import Synchronization
import Wire

/// The router's half of the wire path timing (`SPECULA_WIRE_TIMING=1`): from a worker's frame decoded
/// on the router's loop to the SSE bytes it became handed to the client's HTTP connection, per batch
/// of events a request handler writes. Made only when timing is on.
public final class RouterWireTiming: Sendable {
    private let histogram = Mutex(LatencyHistogram())

    public init() {}

    func record(_ amount: TimeAmount) {
        histogram.withLock { $0.record(amount.nanoseconds) }
    }

    /// `writes=N mean_us=… p50_us=… p90_us=… p99_us=… max_us=…`, for the shutdown log.
    public var summary: String {
        histogram.withLock { "writes=\($0.count) \($0.summary())" }
    }
}
