import Foundation
import HTTPFrontend
import Logging
import NIOCore
import NIOPosix

/// An ``HTTPServer`` on a real socket (127.0.0.1, a port the system picks) with a ``TestService``,
/// and the command-line clients the tests drive it with.
struct LiveServer {
    let server: HTTPServer
    let service: TestService
    let group: MultiThreadedEventLoopGroup

    static func start(tls: TLSFiles? = nil, limits: HTTPLimits = .default, threads: Int = 1,
                      execution: ServiceExecution = .globalExecutor) async throws -> LiveServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let service = TestService()
        do {
            let server = try await HTTPServer.start(host: "127.0.0.1", port: 0, tls: tls, limits: limits, service: service,
                                                    group: group, logger: Logger(label: "live-test"), serviceExecution: execution)
            return LiveServer(server: server, service: service, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Starts a server, runs `body` against it, and stops the server whether `body` threw or not.
    static func with<T>(tls: TLSFiles? = nil, limits: HTTPLimits = .default, execution: ServiceExecution = .globalExecutor,
                        _ body: (LiveServer) async throws -> T) async throws -> T {
        let live = try await start(tls: tls, limits: limits, execution: execution)
        do {
            let result = try await body(live)
            try await live.stop()
            return result
        } catch {
            try? await live.stop()
            throw error
        }
    }

    var url: String { "http://127.0.0.1:\(server.port)" }

    func stop(grace: Duration = .seconds(5)) async throws {
        await server.shutdown(grace: grace)
        try await group.shutdownGracefully()
    }
}

/// What a finished process left.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum Command {
    /// Runs `executable` with `arguments` to completion, its outputs going to temporary files (so a
    /// large output cannot block it on a full pipe).
    static func run(_ executable: String, _ arguments: [String]) async throws -> ProcessResult {
        let directory = FileManager.default.temporaryDirectory
        let outURL = directory.appendingPathComponent("http-test-\(UUID().uuidString).out")
        let errURL = directory.appendingPathComponent("http-test-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = out
            process.standardError = err
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: TestFailure("cannot run \(executable): \(error)"))
            }
        }
        try out.close()
        try err.close()
        return ProcessResult(status: status, stdout: try String(contentsOf: outURL, encoding: .utf8),
                             stderr: try String(contentsOf: errURL, encoding: .utf8))
    }

    /// `curl` with generous timeouts; `-sS` so errors still reach stderr.
    static func curl(_ arguments: [String]) async throws -> ProcessResult {
        try await run("/usr/bin/curl", ["-sS", "--max-time", "60"] + arguments)
    }
}
