import Synchronization

/// One request's events on their way from the router's event loop to its API handler. Unlike an
/// `AsyncStream`, the handler takes everything that arrived since it last looked in one go, so a
/// handler that falls behind writes one HTTP chunk for several token events instead of one each
/// (fewer task wake-ups and socket writes per token).
public final class RequestMailbox: Sendable {
    private struct State {
        var events: [RequestEvent] = []
        var finished = false
        var waiter: CheckedContinuation<[RequestEvent]?, Never>?
    }

    private let state = Mutex(State())

    init() {}

    /// Adds an event (from the router's loop); wakes the handler if it waits.
    func push(_ event: RequestEvent) {
        let waiter = state.withLock { state -> CheckedContinuation<[RequestEvent]?, Never>? in
            guard !state.finished else { return nil }
            guard let waiter = state.waiter else {
                state.events.append(event)
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: [event])
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
