public import NIOCore
public import Wire

/// One router connection's life as a value: connecting → handshaking → registering → registered →
/// draining, with the credits the router holds and the requests it assigned. The service performs the
/// side effects it returns (send, close, reconnect); keeping the rules here lets tests drive them
/// without sockets.
public struct ConnectionState: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        /// No connection; a reconnect may be scheduled.
        case disconnected
        case connecting
        /// TCP is up; `hello` / `authenticate` / `welcome` in progress.
        case handshaking
        /// Authenticated, `register` sent, waiting for `registration`.
        case registering
        /// Serving: the router may assign up to ``ConnectionState/credits`` more requests.
        case registered
        /// `drain` sent: nothing new, requests in flight run out, then the connection closes.
        case draining
        /// Closed for good (drained, or the worker is stopping).
        case stopped
    }

    public private(set) var phase = Phase.disconnected
    /// Assignments the router may still send on this connection.
    public private(set) var credits = 0
    /// Router request ids assigned on this connection and not yet finished.
    public private(set) var requests: Set<UInt64> = []
    /// Connection attempts that failed since the last successful registration.
    public private(set) var failedAttempts = 0
    public let backoff: Backoff

    public init(backoff: Backoff = Backoff()) {
        self.backoff = backoff
    }

    /// Whether the connection is registered and takes new work (so it may be granted credits).
    public var acceptsWork: Bool { phase == .registered }

    /// Whether the router may ask for tokenization on this connection (registered, also while draining).
    public var acceptsTokenization: Bool { phase == .registered || phase == .draining }

    /// Starts a connection attempt; false when one is under way or the worker stops.
    public mutating func startConnecting() -> Bool {
        guard phase == .disconnected else { return false }
        phase = .connecting
        return true
    }

    /// TCP connected: the router speaks first (`hello`).
    public mutating func connected() {
        if phase == .connecting { phase = .handshaking }
    }

    /// The handshake succeeded; returns the `register` frame to send.
    public mutating func authenticated(_ register: Register) -> WireMessage? {
        guard phase == .handshaking else { return nil }
        phase = .registering
        return .register(register)
    }

    public enum RegistrationOutcome: Sendable, Equatable {
        /// Serving; grant credits next.
        case accepted
        /// The router refused the worker (it closes the connection after its `error`).
        case refused(reason: String)
        /// `registration` out of order: a protocol error, close with this.
        case violation(WireError)
    }

    public mutating func registration(_ registration: Registration) -> RegistrationOutcome {
        guard phase == .registering else {
            return .violation(WireError(.unexpectedFrame, "worker received registration in phase \(phase); expected it once, right after register"))
        }
        guard registration.accepted else { return .refused(reason: registration.reason) }
        phase = .registered
        failedAttempts = 0
        return .accepted
    }

    /// Gives the router `count` more credits; returns the frame, or nil when the connection takes no work.
    public mutating func grant(_ count: Int) -> WireMessage? {
        guard count > 0, phase == .registered else { return nil }
        credits += count
        return .credits(Credits(count: UInt32(count)))
    }

    public enum AssignDecision: Sendable, Equatable {
        /// Run it; one credit was used.
        case run
        /// Answer with `finish` reason `error` and this message; the connection stays up.
        case refuse(String)
        /// Not allowed in this phase: close the connection with this error.
        case violation(WireError)
    }

    public mutating func assign(_ requestID: UInt64) -> AssignDecision {
        switch phase {
        case .registered:
            guard !requests.contains(requestID) else {
                return .refuse("request \(requestID) is already running on this connection; request ids must be unique")
            }
            guard credits > 0 else {
                return .refuse("request \(requestID) was assigned without credit (the worker granted none outstanding)")
            }
            credits -= 1
            requests.insert(requestID)
            return .run
        case .draining:
            return .refuse("request \(requestID) was assigned after this worker sent drain")
        default:
            return .violation(WireError(.unexpectedFrame, "worker received assign in phase \(phase); expected it only after registration"))
        }
    }

    /// Whether `requestID` runs for this connection (so `cancel` applies).
    public func owns(_ requestID: UInt64) -> Bool { requests.contains(requestID) }

    /// A request of this connection finished; true when the connection should now close (drained).
    public mutating func finished(_ requestID: UInt64) -> Bool {
        requests.remove(requestID)
        return phase == .draining && requests.isEmpty
    }

    public struct DrainOutcome: Sendable, Equatable {
        /// The `drain` frame to send, when the connection was serving.
        public var message: WireMessage?
        /// Credits the router held, now void (back to the worker's free room).
        public var voidedCredits: Int
        /// Close now: nothing is in flight, or the connection never registered.
        public var closeNow: Bool
    }

    /// The worker stops taking work (SIGTERM): tell a serving router, void its credits.
    public mutating func drain(reason: String) -> DrainOutcome {
        switch phase {
        case .registered, .draining:
            let wasServing = phase == .registered
            let voided = credits
            credits = 0
            phase = .draining
            return DrainOutcome(message: wasServing ? .drain(Drain(reason: reason)) : nil, voidedCredits: voided,
                                closeNow: requests.isEmpty)
        case .stopped:
            return DrainOutcome(message: nil, voidedCredits: 0, closeNow: false)
        default:
            phase = .stopped
            return DrainOutcome(message: nil, voidedCredits: 0, closeNow: true)
        }
    }

    public struct Disconnect: Sendable, Equatable {
        /// Requests the router assigned here and will re-queue elsewhere: the worker cancels them.
        public var orphaned: Set<UInt64>
        /// Credits the router held, now void.
        public var voidedCredits: Int
        /// When to try again; nil: do not (drained or stopping).
        public var retryAfter: TimeAmount?
    }

    /// The connection closed (or the attempt failed).
    public mutating func disconnected() -> Disconnect {
        let outcome = Disconnect(orphaned: requests, voidedCredits: credits, retryAfter: nil)
        requests = []
        credits = 0
        switch phase {
        case .draining, .stopped:
            phase = .stopped
            return outcome
        default:
            phase = .disconnected
            failedAttempts += 1
            var retry = outcome
            retry.retryAfter = backoff.delay(attempt: failedAttempts)
            return retry
        }
    }
}
