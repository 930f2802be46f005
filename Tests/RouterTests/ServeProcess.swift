import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `specula serve` (or `specula router`) as a child process, with the port and worker pids read from
/// its log.
final class ServeProcess: @unchecked Sendable {
    let child: SpeculaChild
    private(set) var port = 0

    /// Starts `specula ARGUMENTS` and waits for the log line `ready` (serve) or `listening for clients` (router).
    init(_ arguments: [String], environment: [String: String] = [:], readyLine: String = "ready",
         within timeout: Duration = .seconds(180)) async throws {
        child = try SpeculaChild(arguments, environment: environment)
        let deadline = ContinuousClock.now + timeout
        while true {
            let log = child.log
            if let line = log.split(separator: "\n").first(where: { $0.hasSuffix(" " + readyLine) || $0.contains("] \(readyLine)") }),
               let port = Self.port(in: String(line)) {
                self.port = port
                return
            }
            guard child.process.isRunning else { throw TestFailure("specula \(arguments.first ?? "") exited before '\(readyLine)':\n\(log)") }
            guard ContinuousClock.now < deadline else {
                child.kill()
                throw TestFailure("no '\(readyLine)' within \(timeout):\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// `url=http://127.0.0.1:PORT` or `address=HOST:PORT` in a log line.
    private static func port(in line: String) -> Int? {
        for field in line.split(separator: " ") where field.hasPrefix("url=") || field.hasPrefix("address=") {
            if let colon = field.lastIndex(of: ":"), let port = Int(field[field.index(after: colon)...]) { return port }
        }
        return nil
    }

    var base: String { "http://127.0.0.1:\(port)" }
    var log: String { child.log }

    /// Worker pids from `worker started pid=…` lines, latest per worker index.
    var workerPIDs: [Int32] {
        var pids: [String: Int32] = [:]
        for line in log.split(separator: "\n") where line.contains("worker started") {
            var pid: Int32?
            var index: String?
            for field in line.split(separator: " ") {
                if field.hasPrefix("pid=") { pid = Int32(field.dropFirst(4)) }
                if field.hasPrefix("worker=") { index = String(field.dropFirst(7)) }
            }
            if let pid, let index { pids[index] = pid }
        }
        return pids.keys.sorted().compactMap { pids[$0] }
    }

    /// SIGINT, then the exit status (nil if still running after `timeout`).
    func interrupt(within timeout: Duration = .seconds(60)) async throws -> Int32? {
        child.signal(SIGINT)
        return try await child.waitForExit(within: timeout)
    }

    func kill() { child.kill() }

    static func isAlive(_ pid: Int32) -> Bool { Glibc.kill(pid, 0) == 0 }
}
