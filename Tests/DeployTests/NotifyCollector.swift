import Foundation
import Synchronization
import SystemdNotify
#if canImport(Glibc)
import Glibc
#endif

/// A notify socket read by a thread of its own, as systemd reads its own at once. A test's tasks run
/// on the cooperative pool, which a loaded parallel test run starves for seconds; a datagram queue
/// holds ten messages (`net.unix.max_dgram_qlen`); and a service whose queue is full loses what it
/// sends next. A worker's first start sends a dozen progress reports in ten seconds, and in one full
/// run its `READY=1` was lost behind them.
final class NotifyCollector: Sendable {
    private let listener: NotifyListener
    private let received = Mutex<[NotifyMessage]>([])
    private let stopped = Atomic<Bool>(false)
    /// Signalled when the reading thread has ended, so that `close` never closes the socket under it
    /// (its descriptor, reused by another test's socket, would then be read here).
    private let threadEnded = DispatchSemaphore(value: 0)
    private let cursor = Mutex(0)

    init(name: String) throws {
        listener = try NotifyListener(address: NotifySocketAddress("@\(name)-\(UUID().uuidString.prefix(8))"))
        Thread { [self] in
            while !stopped.load(ordering: .relaxed) {
                drain()
                usleep(2000)
            }
            threadEnded.signal()
        }.start()
    }

    /// What the service gets as `NOTIFY_SOCKET`.
    var environmentValue: String { listener.environmentValue }

    /// Every message received so far, in order.
    var messages: [NotifyMessage] { received.withLock { $0 } }

    /// Reads what waits in the socket now.
    func drain() {
        received.withLock { messages in
            while let message = try? listener.poll() { messages.append(message) }
        }
    }

    /// Messages before this index were returned by `next` or passed over by it.
    var consumed: Int { cursor.withLock { $0 } }

    /// The next message (after those `next` returned or passed over) that sets `key`, waiting up to
    /// `timeout`; nil when none came, or `alive` says the sender is gone.
    func next(_ key: String, within timeout: Duration, alive: () -> Bool = { true }) async throws -> NotifyMessage? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let all = messages, start = consumed
            if start < all.count, let index = all[start...].firstIndex(where: { $0[key] != nil }) {
                cursor.withLock { $0 = index + 1 }
                return all[index]
            }
            guard ContinuousClock.now < deadline, alive() else { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops the reading thread, then closes the socket (once; later calls do nothing).
    func close() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        threadEnded.wait()
        listener.close()
    }
}
