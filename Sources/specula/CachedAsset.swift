import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file in the cache that is expensive to make (the datastore, the step-cost curve) and that
/// several processes may find missing at once: `specula serve --workers 2`, or two worker units
/// started together on a fresh machine. Without coordination each made its own copy, all on the same
/// cores: the curves were measured under each other's load, and two datastore builds wrote the same
/// file at once. Here the first process makes it under an exclusive lock beside the file; the others
/// wait for the lock and then read what it wrote.
///
/// The lock is a `flock(2)` on `<file>.lock`: the kernel drops it when its holder exits or dies, so a
/// worker killed while measuring leaves nothing stale, and the next waiter makes the file itself.
enum CachedAsset {
    /// How often a waiting process hears that it is still waiting.
    static let waitReportInterval = 30.0

    /// The value `load` reads from the cache, else `make`'s, made under the lock at `path + ".lock"`
    /// after `load` found nothing once more (another process may have made it while this one waited).
    /// `waiting` hears the seconds waited so far, when the wait starts and every `waitReportInterval`.
    static func loadOrMake<T>(path: String, load: () -> T?, waiting: (Double) -> Void = { _ in },
                              make: () throws -> T) throws -> T {
        if let value = load() { return value }
        return try withLock(at: path + ".lock", waiting: waiting) {
            if let value = load() { return value }
            return try make()
        }
    }

    /// Runs `body` holding an exclusive lock on the file at `lockPath` (created if missing). A lock
    /// that cannot be opened (a read-only cache) is no reason not to start: `body` then runs unlocked,
    /// as it did before there was a lock.
    static func withLock<T>(at lockPath: String, waiting: (Double) -> Void = { _ in },
                            _ body: () throws -> T) throws -> T {
        let directory = (lockPath as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return try body() }
        defer { close(fd) }  // closing the descriptor releases the lock
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let started = Date()
            var nextReport = 0.0
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                // Only a lock held by another process is waited for (a file system without locks is not).
                guard errno == EWOULDBLOCK || errno == EINTR else { break }
                let waited = Date().timeIntervalSince(started)
                if waited >= nextReport {
                    waiting(waited)
                    nextReport = waited + waitReportInterval
                }
                usleep(100_000)
            }
        }
        return try body()
    }
}
