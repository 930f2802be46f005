import NIOCore
import Synchronization
import Wire

/// One request's events on their way from the router's event loop to its API handler. Unlike an
/// `AsyncStream`, the handler takes everything that arrived since it last looked in one go, so a
/// handler that falls behind writes one HTTP chunk for several token events instead of one each
/// (fewer task wake-ups and socket writes per token).
public final class RequestMailbox: Sendable {
    private struct State {
        var events: [RequestEvent] = []
        var finished = false
        var waiter: CheckedContinuation<[RequestEvent]?, Never>?
        /// With timing: when the oldest event still in ``events`` arrived, and the same for the batch
        /// the handler took last.
        var pendingSince: NIODeadline?
        var takenSince: NIODeadline?
    }

    private let state = Mutex(State())
    private let timing: RouterWireTiming?

    /// - Parameter timing: where ``wrote()`` records how long events waited (`SPECULA_WIRE_TIMING`); nil: off.
    init(timing: RouterWireTiming? = nil) {
        self.timing = timing
    }

    /// Adds an event (from the router's loop); wakes the handler if it waits.
    func push(_ event: RequestEvent) {
        let now: NIODeadline? = timing == nil ? nil : .now()
        let waiter = state.withLock { state -> CheckedContinuation<[RequestEvent]?, Never>? in
            guard !state.finished else { return nil }
            guard let waiter = state.waiter else {
                state.events.append(event)
                state.pendingSince = state.pendingSince ?? now
                return nil
            }
            state.waiter = nil
            state.takenSince = now
            return waiter
        }
        waiter?.resume(returning: [event])
    }

    /// The handler wrote the batch it took last to its HTTP response: with timing on, records how long
    /// the batch's oldest event took from the wire frame to there.
    public func wrote() {
        guard let timing else { return }
        let since = state.withLock { state in
            defer { state.takenSince = nil }
            return state.takenSince
        }
        if let since { timing.record(.now() - since) }
    }

    /// No more events: the handler gets what is left, then nil.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[RequestEvent]?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Every event that arrived since the last call, waiting for at least one; nil once finished
    /// and empty.
    public func next() async -> [RequestEvent]? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [RequestEvent]?? in
                if !state.events.isEmpty {
                    defer { state.events.removeAll(keepingCapacity: true) }
                    state.takenSince = state.pendingSince
                    state.pendingSince = nil
                    return .some(state.events)
                }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
