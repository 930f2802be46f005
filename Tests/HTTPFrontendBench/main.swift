// The HTTP front end under h2load, against nghttpd serving a file on the same machine with the same
// h2load flags. Run in release, alone on the machine:
//   swift run -c release HTTPFrontendBench [--requests 100000] [--clients 10] [--streams 10] [--threads 1] [--ours-only]
// Needs h2load (Debian nghttp2-client) and nghttpd (nghttp2-server).
import Foundation
import HTTPFrontend
import Logging
import NIOCore
import NIOPosix

/// `/health`: a fixed small body, the same work a health check does.
struct HealthService: HTTPService {
    func handle(_ request: HTTPServerRequest, response: any HTTPResponseWriter) async {
        if request.path == "/health" {
            try? await response.respond(status: 200, headers: [("content-type", "text/plain")], body: ByteBuffer(string: "ok\n"))
        } else {
            try? await response.respond(status: 404, headers: [], body: ByteBuffer())
        }
    }

    func errorResponse(status: Int, message: String) -> (contentType: String, body: ByteBuffer) {
        ("text/plain", ByteBuffer(string: message))
    }
}

/// Writes a line straight to standard output (no buffering: progress shows as it happens).
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

func option(_ name: String, _ fallback: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1]) else {
        return fallback
    }
    return value
}

/// Runs a program to completion and returns its standard output.
func run(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// The lines of an h2load report worth comparing.
func summary(_ report: String) -> String {
    report.split(separator: "\n").filter {
        $0.hasPrefix("finished in") || $0.hasPrefix("requests:") || $0.hasPrefix("status codes:")
            || $0.hasPrefix("time for request:") || $0.contains("min         max") || $0.hasPrefix("traffic:")
    }.joined(separator: "\n")
}

func h2load(_ url: String, requests: Int) throws -> String {
    let flags = ["-c", String(option("--clients", 10)), "-m", String(option("--streams", 10))]
    _ = try run("/usr/bin/h2load", ["-n", String(min(requests, 10_000))] + flags + [url])  // warm-up
    return try run("/usr/bin/h2load", ["-n", String(requests)] + flags + [url])
}

let requests = option("--requests", 100_000)
let threads = option("--threads", 1)
say("h2load -n \(requests) -c \(option("--clients", 10)) -m \(option("--streams", 10)); server event loop threads: \(threads)")

var port = 0
for execution in [ServiceExecution.globalExecutor, .connectionEventLoop] {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    let server = try await HTTPServer.start(host: "127.0.0.1", port: 0, tls: nil, service: HealthService(), group: group,
                                            logger: Logger(label: "bench"), serviceExecution: execution)
    say("\n== HTTPServer (HTTPFrontend), /health, service tasks on \(execution) ==")
    say(summary(try h2load("http://127.0.0.1:\(server.port)/health", requests: requests)))
    port = server.port
    await server.shutdown(grace: .seconds(5))
    try await group.shutdownGracefully()
}

if CommandLine.arguments.contains("--ours-only") { exit(0) }
let root = FileManager.default.temporaryDirectory.appendingPathComponent("nghttpd-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
try Data("ok\n".utf8).write(to: root.appendingPathComponent("health"))
let nghttpd = Process()
nghttpd.executableURL = URL(fileURLWithPath: "/usr/sbin/nghttpd")
nghttpd.arguments = ["--no-tls", "-d", root.path, String(port)]  // the port our server just released
nghttpd.standardOutput = FileHandle.nullDevice
try nghttpd.run()
try await Task.sleep(for: .seconds(1))
say("\n== nghttpd --no-tls (1 thread), a 3-byte file ==")
say(summary(try h2load("http://127.0.0.1:\(port)/health", requests: requests)))
kill(nghttpd.processIdentifier, SIGKILL)  // nghttpd ignores SIGTERM
nghttpd.waitUntilExit()
try? FileManager.default.removeItem(at: root)
