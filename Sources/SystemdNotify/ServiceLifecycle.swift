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
}
