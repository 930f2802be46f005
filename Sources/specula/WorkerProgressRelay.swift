import Foundation
import SystemdNotify

/// `specula serve` under systemd: its workers' first-start progress (building the datastore,
/// measuring the step-cost curve: minutes on a large model) passed on as serve's own, so systemd
/// extends serve's start as it extends a worker unit's, rather than failing it at `TimeoutStartSec=`.
///
/// The workers notify a socket serve listens on, never systemd's. Only their progress reports (the
/// messages carrying `EXTEND_TIMEOUT_USEC=`) go on, shown as `worker: <status>`, and only while serve
/// starts (`SystemdReporter.startProgress`); their `READY=1` and status lines stay here. The socket
/// is read to the end, so a worker never finds its queue full.
struct WorkerProgressRelay: Sendable {
    let listener: NotifyListener

    /// A relay when serve runs under systemd (`NOTIFY_SOCKET` set), else nil: then the workers get no
    /// socket at all.
    static func start(for systemd: SystemdReporter) throws -> WorkerProgressRelay? {
        guard systemd.isEnabled else { return nil }
        let name = "@specula-serve-\(getpid())-\(UUID().uuidString.prefix(8))"
        do {
            return WorkerProgressRelay(listener: try NotifyListener(address: try NotifySocketAddress(name)))
        } catch {
            throw CLIError("cannot listen for the workers' progress on \(name): \(error)")
        }
    }

    /// What the workers get as `NOTIFY_SOCKET`.
    var environmentValue: String { listener.environmentValue }

    /// Passes progress on until cancelled (or the socket fails). The socket is drained every 20 ms
    /// while serve starts (each worker reports up to once a second, and the queue holds ten), then once
    /// a second: afterwards it only has to be kept from filling up.
    func run(to systemd: SystemdReporter) -> Task<Void, Never> {
        Task {
            // A report whose status line has not changed carries only the extension.
            var status = "starting"
            while !Task.isCancelled {
                do {
                    while let message = try listener.poll() {
                        if let text = message["STATUS"] { status = text }
                        guard let allowance = message["EXTEND_TIMEOUT_USEC"].flatMap(Int64.init), allowance > 0 else { continue }
                        systemd.startProgress("worker: \(status)", allowing: .microseconds(allowance))
                    }
                } catch {
                    return
                }
                try? await Task.sleep(for: systemd.isStarting ? .milliseconds(20) : .seconds(1))
            }
        }
    }

    func close() { listener.close() }
}
