/// What a service reports to systemd as it goes through its life, as a value: `READY=1` exactly once,
/// when it first serves; `STOPPING=1` exactly once, when it starts to drain; a `STATUS=` line whenever
/// the text changes. The protocol has no way back (a service cannot become "not ready"), so asking for
/// an earlier phase only updates the status line; a service stopped before it served never says
/// `READY=1`.
public struct ServiceLifecycle: Sendable, Equatable {
    public enum Phase: Int, Sendable, Comparable {
        case starting
        case serving
        case stopping

        public static func < (lhs: Phase, rhs: Phase) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public private(set) var phase = Phase.starting
    public private(set) var status: String?

    public init() {}

    /// The assignments to send for this report; empty when nothing changed.
    public mutating func report(_ requested: Phase, status text: String) -> [SystemdNotifier.Assignment] {
        var assignments: [SystemdNotifier.Assignment] = []
        if requested > phase {
            assignments.append((requested == .serving ? "READY" : "STOPPING", "1"))
            phase = requested
        }
        if text != status || !assignments.isEmpty {
            assignments.append(("STATUS", text))
            status = text
        }
        return assignments
    }

    /// A start that is slow but moving (a first start measuring for minutes): the status line, and
    /// `EXTEND_TIMEOUT_USEC=` asking systemd to wait up to `time` for the next message instead of
    /// failing the start at `TimeoutStartSec=`. Sent on every report, even when the line is the same,
    /// since each extension counts from when it arrives. Nothing once the service serves or stops:
    /// their timeouts are not the start's to stretch, and their status lines say more.
    public mutating func progress(status text: String, allowing time: Duration) -> [SystemdNotifier.Assignment] {
        guard phase == .starting else { return [] }
        let (seconds, attoseconds) = time.components
        let microseconds = max(0, seconds) * 1_000_000 + max(0, attoseconds) / 1_000_000_000_000
        return report(.starting, status: text) + [("EXTEND_TIMEOUT_USEC", "\(microseconds)")]
    }
}
