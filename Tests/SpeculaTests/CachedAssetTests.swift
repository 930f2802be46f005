@testable import specula
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Several processes finding a cached asset missing at once make it once: the first under the lock,
/// the rest wait and read it.
@Suite("cached assets made once", .timeLimit(.minutes(1)))
struct CachedAssetTests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("specula-cached-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("of two callers that find the file missing at once, one makes it; the other waits, then reads it")
    func oneMakesTheOtherWaits() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("asset").path
        let makes = Counter()
        let inside = DispatchSemaphore(value: 0), finish = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        @Sendable func load() -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

        // A thread of its own, not a task: it blocks, and the cooperative pool has two threads here.
        let first = Result()
        Thread {
            first.value = try? CachedAsset.loadOrMake(path: path, load: load) {
                makes.count.add(1, ordering: .relaxed)
                inside.signal()
                finish.wait()  // still making when the second caller arrives
                try "made by the first".write(toFile: path, atomically: true, encoding: .utf8)
                return "made by the first"
            }
            done.signal()
        }.start()
        inside.wait()
        var waits: [Double] = []
        let second = try CachedAsset.loadOrMake(path: path, load: load, waiting: { waited in
            waits.append(waited)
            finish.signal()  // the first finishes only once the second is known to wait
        }) {
            makes.count.add(1, ordering: .relaxed)
            return "made by the second"
        }
        done.wait()
        #expect(first.value == "made by the first")
        #expect(second == "made by the first", "the waiter reads what the maker wrote")
        #expect(makes.count.load(ordering: .relaxed) == 1)
        #expect(waits.count == 1 && waits[0] < CachedAsset.waitReportInterval)
        #expect(try CachedAsset.loadOrMake(path: path, load: load) { "made again" } == "made by the first",
                "a cached file is read without the lock")
    }

    @Test("a lock whose holder dies is released: the waiter goes on and makes the file itself")
    func aDeadHolderReleasesTheLock() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lockPath = directory.appendingPathComponent("asset.lock").path
        // Another process holds the lock, as a worker measuring would: the shell opens the file, flock(1)
        // locks that open file, and the shell becomes `sleep`, which keeps it.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9>\"$0\"; flock 9; exec sleep 60", lockPath]
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        try Self.waitUntilLocked(lockPath)

        var waits = 0
        let result = try CachedAsset.withLock(at: lockPath, waiting: { _ in
            waits += 1
            Glibc.kill(holder.processIdentifier, SIGKILL)
        }) { "ran" }
        #expect(result == "ran")
        #expect(waits == 1)
    }

    @Test("a progress bar passes on its first percent, then at most one a second, and 100")
    func progressIsHeardSparingly() {
        var heard: [Int] = []
        let bar = ProgressBar(label: "test") { heard.append($0) }
        for percent in 0...100 { bar.update(Double(percent) / 100, detail: "") }
        FileHandleOutput.standardError.write("\n")
        #expect(heard == [0, 100], "a hundred updates within a second")
    }

    final class Counter: Sendable {
        let count = Atomic<Int>(0)
    }

    /// What the other thread's call returned (read after it signalled).
    final class Result: @unchecked Sendable {
        var value: String?
    }

    /// Returns once another process holds an exclusive lock on the file at `path`.
    static func waitUntilLocked(_ path: String) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                let free = flock(fd, LOCK_EX | LOCK_NB) == 0
                close(fd)
                if !free { return }
            }
            usleep(20_000)
        }
        throw ProcessError("flock(1) did not take \(path)")
    }
}
