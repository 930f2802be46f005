public import NIOCore

/// The liveness rule of a session (wire.md, `heartbeat`) as a value, so the router and the worker
/// apply the same rule and it can be tested without a clock.
///
/// A side asks for a heartbeat after `interval` without sending, and also after `interval` without
/// receiving: a peer that is only answering (while this side streams tokens, say) then still sends
/// something, and a long busy spell is not mistaken for a dead peer. A peer is dead after `timeout`
/// without receiving anything.
///
/// Unless this side was the one not running: a tick that comes more than half a timeout after the
/// one before means the process was stopped or descheduled in between (SIGSTOP, a paused VM, a host
/// that gave its cores away), and what the peer sent meanwhile may still wait unread in the socket.
/// Such a tick gives no verdict; the next one, after those reads, does. A worker frozen for 6.5 s
/// whose router had kept sending every 300 ms dropped it as silent on waking, before reading a frame.
public struct HeartbeatClock: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        case quiet
        /// Send this heartbeat request (already counted as sent).
        case ask(Heartbeat)
        /// Nothing received for this long: fail the connection with `heartbeatTimeout`.
        case silent(for: TimeAmount)
    }

    private var lastReceived: NIODeadline
    private var lastSent: NIODeadline
    private var lastAsked: NIODeadline
    private var lastChecked: NIODeadline
    /// Whether the last tick came late and gave no verdict (only one in a row does).
    private var excused = false
    private var sequence: UInt64 = 0

    public init(now: NIODeadline) {
        lastReceived = now
        lastSent = now
        lastAsked = now
        lastChecked = now
    }

    public mutating func received(at now: NIODeadline) { lastReceived = now }

    public mutating func sent(at now: NIODeadline) { lastSent = now }

    /// One liveness tick. `mayAsk` is false before the handshake, when no heartbeat may be sent yet.
    public mutating func check(now: NIODeadline, interval: TimeAmount, timeout: TimeAmount, mayAsk: Bool) -> Verdict {
        let silence = now - lastReceived
        let late = (now - lastChecked).nanoseconds > timeout.nanoseconds / 2
        lastChecked = now
        if silence > timeout {
            if late && !excused {
                excused = true
                return .quiet
            }
            return .silent(for: silence)
        }
        excused = false
        guard mayAsk else { return .quiet }
        let idle = now - lastSent >= interval
        let unheard = silence >= interval && now - lastAsked >= interval
        guard idle || unheard else { return .quiet }
        sequence += 1
        lastSent = now
        lastAsked = now
        return .ask(Heartbeat(sequence: sequence))
    }
}
