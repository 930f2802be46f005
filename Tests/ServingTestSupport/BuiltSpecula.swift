import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `specula` executable SwiftPM built beside the running test bundle, for tests that run it as a
/// child process.
package enum BuiltSpecula {
    package static var executable: URL {
        get throws {
            let testBinary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            let candidate = URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent("specula")
            guard FileManager.default.isExecutableFile(atPath: candidate.path) else {
                throw ProcessError("specula executable not found at \(candidate.path)")
            }
            return candidate
        }
    }
}

extension Process {
    /// Waits for the exit; nil when it is still running after `timeout`.
    package func exitStatus(within timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return terminationStatus
    }

    /// SIGKILL if it still runs (a service drains on SIGTERM, so that would not end it), then reaps it.
    package func killAndReap() {
        guard isRunning else { return }
        Glibc.kill(processIdentifier, SIGKILL)
        waitUntilExit()
    }
}
