import Foundation
import ServingTestSupport
import Testing

/// Runs the built `specula` executable (it sits beside the test bundle in the build folder).
struct SpeculaProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")

    static var executable: URL { get throws { try BuiltSpecula.executable } }

    /// Runs `specula arguments...` to completion.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let (status, stdout, stderr) = try runToEnd(try executable, arguments,
                                                    environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        return Result(status: status, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }
}

struct ProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
