import Engine
import NIOCore

/// What a supervisor (systemd through `specula worker`) learns about the worker: its status whenever
/// it changes, and watchdog pings that need both the event loop and the engine thread to answer, so a
/// worker stuck in either stops pinging and gets restarted.
extension WorkerService {
    struct Supervision {
        var statusHandler: (@Sendable (WorkerStatus) -> Void)?
        var watchdog: RepeatedTask?
        /// A probe is on its way through the engine thread; no new one (and no ping) until it returns.
        var probeOutstanding = false
    }

    /// Calls `handler` on the event loop with the status now, then whenever a router registers or is
    /// lost and when draining begins.
    public func onStatusChange(_ handler: @escaping @Sendable (WorkerStatus) -> Void) {
        loop.execute {
            self.supervision.statusHandler = handler
            handler(self.status)
        }
    }

    /// Every `interval`, a timer on the event loop sends a probe through the engine thread, and `ping`
    /// runs (on the loop) when the engine answers. A probe still unanswered at the next tick means the
    /// engine is inside one step for that long: the tick sends nothing, and neither does the ping.
    public func startWatchdog(every interval: Duration, ping: @escaping @Sendable () -> Void) {
        let (seconds, attoseconds) = interval.components
        let interval = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        loop.execute {
            self.supervision.watchdog?.cancel()
            self.supervision.watchdog = self.loop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { _ in
                self.probeEngine(then: ping)
            }
        }
    }

    var status: WorkerStatus {
        WorkerStatus(registeredRouters: links.filter { $0.state.acceptsWork }.count, routers: links.count,
                     inFlight: routes.count, draining: draining)
    }

    func statusChanged() {
        supervision.statusHandler?(status)
    }

    private func probeEngine(then ping: @escaping @Sendable () -> Void) {
        guard !supervision.probeOutstanding else { return }
        supervision.probeOutstanding = true
        let loop = self.loop
        engine.probe {
            loop.execute {
                self.supervision.probeOutstanding = false
                ping()
            }
        }
    }
}
