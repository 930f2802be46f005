import Foundation
import Synchronization

/// Runs an `InferenceEngine` on its own OS thread: compute never blocks an event loop or pins a Swift
/// concurrency thread. Other threads send commands through an inbox; the engine thread applies them
/// between steps and hands each step's events to `onEvents` (on the engine thread, so it must be quick:
/// enqueue and return).
public final class EngineThread: Sendable {
    private enum Command {
        case submit(GenerationRequest)
        case cancel(UInt64)
        case probe(@Sendable () -> Void)
    }

    /// What the inbox holds and whether the thread should stop.
    private struct Inbox {
        var commands: [Command] = []
        var draining = false
        var stopped = false
        var load = Load()
    }

    /// A snapshot of the engine's occupancy, for scheduling and metrics.
    public struct Load: Sendable, Equatable {
        public var running = 0
        public var waiting = 0
        public var freeCacheTokens = 0
        public var statistics = EngineStatistics()
    }

    private let inbox: Mutex<Inbox>
    private let wakeUp = NSCondition()
    private let finished = NSCondition()

    /// Starts the thread. The engine is handed over: only the engine thread touches it from now on.
    public init(engine: sending InferenceEngine, name: String = "specula-engine",
                onEvents: @escaping @Sendable ([EngineEvent]) -> Void) {
        inbox = Mutex(Inbox())
        let owned = EngineBox(engine)
        let thread = Thread { [self] in
            self.run(owned.engine, onEvents: onEvents)
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queues a request; false when draining or stopped (the caller answers the client).
    @discardableResult
    public func submit(_ request: GenerationRequest) -> Bool {
        let accepted = inbox.withLock { inbox in
            guard !inbox.draining && !inbox.stopped else { return false }
            inbox.commands.append(.submit(request))
            return true
        }
        if accepted { signal() }
        return accepted
    }

    public func cancel(_ id: UInt64) {
        inbox.withLock { $0.commands.append(.cancel(id)) }
        signal()
    }

    /// Calls `reply` on the engine thread between two steps: proof that the thread is alive and not
    /// stuck inside a step (a watchdog's probe). Once the thread has stopped, calls it at once.
    public func probe(_ reply: @escaping @Sendable () -> Void) {
        let queued = inbox.withLock { inbox in
            guard !inbox.stopped else { return false }
            inbox.commands.append(.probe(reply))
            return true
        }
        if queued { signal() } else { reply() }
    }

    /// Takes nothing new; the thread exits once every request it holds has finished.
    public func drain() {
        inbox.withLock { $0.draining = true }
        signal()
    }

    /// Blocks until the thread has exited (after `drain`).
    public func waitUntilStopped() {
        finished.lock()
        while !inbox.withLock({ $0.stopped }) { finished.wait() }
        finished.unlock()
    }

    public var load: Load { inbox.withLock { $0.load } }
    public var isDraining: Bool { inbox.withLock { $0.draining } }

    private func signal() {
        wakeUp.lock()
        wakeUp.signal()
        wakeUp.unlock()
    }

    private func run(_ engine: InferenceEngine, onEvents: @Sendable ([EngineEvent]) -> Void) {
        while true {
            wakeUp.lock()
            while !engine.hasWork && inbox.withLock({ $0.commands.isEmpty && !$0.draining }) {
                wakeUp.wait()
            }
            wakeUp.unlock()
            let (commands, draining) = inbox.withLock { inbox in
                defer { inbox.commands.removeAll() }
                return (inbox.commands, inbox.draining)
            }
            var events: [EngineEvent] = []
            for command in commands {
                switch command {
                case .submit(let request): events += engine.submit(request)
                case .cancel(let id): events += engine.cancel(id)
                case .probe(let reply): reply()
                }
            }
            if engine.hasWork { events += engine.step() }
            inbox.withLock {
                $0.load = Load(running: engine.runningCount, waiting: engine.waitingCount,
                               freeCacheTokens: engine.cache.freeTokenCapacity, statistics: engine.statistics)
            }
            if !events.isEmpty { onEvents(events) }
            // Stopping is decided under the lock that guards the inbox, so nothing queued after it
            // (a probe) is left unanswered.
            if draining && !engine.hasWork && inbox.withLock({ inbox in
                if inbox.commands.isEmpty { inbox.stopped = true }
                return inbox.stopped
            }) { break }
        }
        finished.lock()
        finished.broadcast()
        finished.unlock()
    }
}

/// Carries the engine onto its thread; after that only the engine thread uses it.
private final class EngineBox: @unchecked Sendable {
    let engine: InferenceEngine
    init(_ engine: sending InferenceEngine) { self.engine = engine }
}
