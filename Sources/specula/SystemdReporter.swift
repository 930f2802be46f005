import Logging
import Router
import Synchronization
import SystemdNotify

/// A service's life as systemd hears it (`Type=notify`): readiness, stopping, status lines and
/// watchdog pings, sent from any thread. Without `NOTIFY_SOCKET` it only keeps the state. A socket
/// that refuses a message is logged once, not fatal: the service keeps serving.
final class SystemdReporter: Sendable {
    private let notifier: SystemdNotifier
    private let lifecycle = Mutex(ServiceLifecycle())
    private let logger: Logger
    private let warned = Atomic<Bool>(false)

    init(logger: Logger) throws {
        do {
            notifier = try SystemdNotifier()
        } catch {
            throw CLIError(error.description)
        }
        self.logger = logger
    }

    /// Whether systemd (or another supervisor) listens: `NOTIFY_SOCKET` is set.
    var isEnabled: Bool { notifier.isEnabled }

    /// Whether the service has not yet said `READY=1` (nor `STOPPING=1`).
    var isStarting: Bool { lifecycle.withLock { $0.phase == .starting } }

    /// Half of `WATCHDOG_USEC`, when systemd expects pings from this process.
    var watchdogInterval: Duration? { notifier.watchdogInterval }

    func report(_ phase: ServiceLifecycle.Phase, status: String) {
        // The lock also keeps datagrams in the order the lifecycle produced them.
        lifecycle.withLock { lifecycle in
            let assignments = lifecycle.report(phase, status: status)
            send(assignments)
        }
    }

    /// A start that takes long but moves: the status line, and a new `allowing` for the next report.
    func startProgress(_ status: String, allowing time: Duration) {
        lifecycle.withLock { lifecycle in
            send(lifecycle.progress(status: status, allowing: time))
        }
    }

    func watchdogPing() {
        send([("WATCHDOG", "1")])
    }

    private func send(_ assignments: [SystemdNotifier.Assignment]) {
        guard notifier.isEnabled, !assignments.isEmpty else { return }
        do {
            try notifier.send(assignments)
            if assignments.contains(where: { $0.key == "READY" || $0.key == "STOPPING" }) {
                logger.debug("systemd notified", metadata: ["message": "\(assignments.map { "\($0.key)=\($0.value)" })"])
            }
        } catch {
            if !warned.exchange(true, ordering: .relaxed) {
                logger.warning("cannot notify systemd; continuing without", metadata: ["error": "\(error.description)"])
            }
        }
    }
}

extension SystemdReporter {
    /// For a router that has started serving: every `watchdogInterval` (else every 5 s) probes every
    /// event loop and the router's state, shows the load as the `STATUS=` line, and pings the
    /// watchdog — only after the probe answered, so a wedged router stops pinging and systemd
    /// restarts it. Ends when cancelled or when the server has closed.
    func watch(_ server: RouterServer) -> Task<Void, Never> {
        let interval = watchdogInterval
        return Task {
            while !Task.isCancelled {
                guard let load = try? await server.probe() else { return }
                report(load.draining ? .stopping : .serving, status: load.description)
                if interval != nil { watchdogPing() }
                try? await Task.sleep(for: interval ?? .seconds(5))
            }
        }
    }
}
