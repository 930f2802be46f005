import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `specula serve`'s worker processes: N children of this same binary running `specula worker`,
/// each restarted with exponential backoff when it dies, all stopped (SIGTERM, then SIGKILL after a
/// grace period) on shutdown. Children get `--exit-with-parent`, so none outlives a killed `serve`.
final class WorkerSupervisor: @unchecked Sendable {
    private struct Slot {
        var process: Process?
        /// Deaths in a row without a long enough life in between.
        var failures = 0
        var started = ContinuousClock.now
        var restart: DispatchWorkItem?
    }

    /// A worker that lived this long before dying is restarted at once (its backoff resets).
    static let stableLife: Duration = .seconds(30)

    private let queue = DispatchQueue(label: "specula-serve-supervisor")
    private var slots: [Slot]
    private var stopping = false
    private let executable: URL
    private let arguments: @Sendable (Int) -> [String]
    private let environment: [String: String]
    private let logger: Logger
    /// Called (on the supervisor's queue) when a worker exits on its own, with its index and status.
    var onExit: (@Sendable (Int, Int32) -> Void)?

    init(count: Int, executable: URL, environment: [String: String], logger: Logger, arguments: @escaping @Sendable (Int) -> [String]) {
        slots = Array(repeating: Slot(), count: count)
        self.executable = executable
        self.environment = environment
        self.logger = logger
        self.arguments = arguments
    }

    func start() {
        queue.sync { for index in slots.indices { spawn(index) } }
    }

    /// Process ids of the running workers (for tests and logs).
    var pids: [Int32] { queue.sync { slots.compactMap { $0.process?.processIdentifier } } }

    private func spawn(_ index: Int) {
        guard !stopping else { return }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments(index)
        process.environment = environment
        process.terminationHandler = { process in
            let status = process.terminationStatus
            self.queue.async { self.exited(index, process: process, status: status) }
        }
        do {
            try process.run()
            slots[index].process = process
            slots[index].started = .now
            logger.info("worker started", metadata: ["worker": "\(index)", "pid": "\(process.processIdentifier)"])
        } catch {
            logger.error("worker could not start", metadata: ["worker": "\(index)", "error": "\(error)"])
            scheduleRestart(index)
        }
    }

    private func exited(_ index: Int, process: Process, status: Int32) {
        guard slots[index].process === process else { return }
        slots[index].process = nil
        guard !stopping else { return }
        onExit?(index, status)
        let lived = ContinuousClock.now - slots[index].started
        slots[index].failures = lived >= Self.stableLife ? 1 : slots[index].failures + 1
        logger.warning("worker exited; restarting it", metadata: [
            "worker": "\(index)", "pid": "\(process.processIdentifier)", "status": "\(status)",
            "lived_s": "\(lived.components.seconds)", "failures": "\(slots[index].failures)",
        ])
        scheduleRestart(index)
    }

    /// 0.5 s after the first death, doubling per death in a row, at most 30 s.
    private func scheduleRestart(_ index: Int) {
        let exponent = min(max(slots[index].failures - 1, 0), 6)
        let delay = min(30.0, 0.5 * pow(2, Double(exponent)))
        let work = DispatchWorkItem { self.spawn(index) }
        slots[index].restart = work
        queue.asyncAfter(deadline: .now() + delay, execute: work)
    }

    /// Stops restarting, sends SIGTERM (workers drain and exit), and SIGKILL to any still running
    /// after `grace`. Returns once every worker has exited.
    func stop(grace: Duration) async {
        let running: [Process] = queue.sync {
            stopping = true
            for slot in slots { slot.restart?.cancel() }
            return slots.compactMap(\.process)
        }
        for process in running where process.isRunning { Glibc.kill(process.processIdentifier, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        while running.contains(where: \.isRunning), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for process in running where process.isRunning {
            logger.warning("worker did not stop in time; killing it", metadata: ["pid": "\(process.processIdentifier)"])
            Glibc.kill(process.processIdentifier, SIGKILL)
        }
        for process in running { process.waitUntilExit() }
    }
}
