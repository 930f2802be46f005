import Foundation

/// HTTP requests through the `curl` command line (HTTP/1.1 or HTTP/2 with prior knowledge), as a
/// user would make them.
package enum Curl {
    package enum Version {
        case http1
        case http2PriorKnowledge

        package var flag: String { self == .http1 ? "--http1.1" : "--http2-prior-knowledge" }
    }

    package struct Response {
        package let status: Int
        package let body: String
        package var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        package var error: [String: Any]? { json["error"] as? [String: Any] }
    }

    /// Whole-request limit in seconds unless a test gives its own (tests with a shorter time limit must:
    /// a blocking call outlives the test's time limit).
    package static let defaultMaxTime = 300

    package static func arguments(_ url: String, method: String, json: String?, version: Version, headers: [String],
                                  maxTime: Int = defaultMaxTime) -> [String] {
        var arguments = ["-s", "-N", version.flag, "-X", method, url, "--max-time", "\(maxTime)"]
        for header in headers { arguments += ["-H", header] }
        if let json { arguments += ["-H", "content-type: application/json", "--data-binary", json] }
        return arguments
    }

    /// Runs one request to completion.
    package static func request(_ url: String, method: String = "POST", json: String? = nil, version: Version = .http1,
                                headers: [String] = [], maxTime: Int = defaultMaxTime) throws -> Response {
        let (status, data, _) = try runToEnd(URL(fileURLWithPath: "/usr/bin/curl"),
                                             arguments(url, method: method, json: json, version: version, headers: headers, maxTime: maxTime)
                                                + ["-w", "\n%{http_code}"])
        var text = String(decoding: data, as: UTF8.self)
        guard let newline = text.lastIndex(of: "\n"), let code = Int(text[text.index(after: newline)...]) else {
            throw ProcessError("curl \(url) printed no status (exit \(status)): \(text)")
        }
        text = String(text[..<newline])
        return Response(status: code, body: text)
    }

    /// A request running in the background, its body going to a file (for concurrent streams).
    package final class Background: @unchecked Sendable {
        package let process = Process()
        package let file: URL

        package init(_ url: String, json: String, version: Version = .http1, headers: [String] = [], maxTime: Int = defaultMaxTime) throws {
            file = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString).out")
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = Curl.arguments(url, method: "POST", json: json, version: version, headers: headers, maxTime: maxTime)
                + ["-w", "\n%{http_code}"]
            process.standardOutput = try FileHandle(forWritingTo: file)
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        /// What arrived so far (the status line comes last, once curl is done).
        package var body: String { (try? String(contentsOf: file, encoding: .utf8)) ?? "" }

        /// The whole response once curl exits.
        package func wait() -> Response {
            process.waitUntilExit()
            defer { try? FileManager.default.removeItem(at: file) }
            var text = body
            guard let newline = text.lastIndex(of: "\n"), let status = Int(text[text.index(after: newline)...]) else {
                return Response(status: 0, body: text)
            }
            text = String(text[..<newline])
            return Response(status: status, body: text)
        }

        /// A client that goes away. SIGKILL, as curl inherits this test's blocked SIGTERM and would sleep
        /// through `terminate()` until its own --max-time.
        package func kill() {
            process.killAndReap()
            try? FileManager.default.removeItem(at: file)
        }
    }
}

/// A value from a Prometheus text exposition (`/metrics`).
package enum PrometheusText {
    /// The value of the unlabelled sample `name`; 0 when absent.
    package static func value(_ name: String, in text: String) -> Double {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }
}

/// Server-sent events of a streamed completion or chat response.
package enum SSEBody {
    /// The `data:` payloads, in order.
    package static func events(_ body: String) -> [String] {
        body.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { $0.hasPrefix("data: ") ? String($0.dropFirst(6)) : "MALFORMED: \($0)" }
    }

    /// The concatenated text of the chunks (completion `text` or chat `delta.content`).
    package static func text(_ body: String) -> String {
        events(body).compactMap { data -> String? in
            guard let chunk = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any],
                  let choice = (chunk["choices"] as? [[String: Any]])?.first else { return nil }
            return (choice["text"] as? String) ?? ((choice["delta"] as? [String: Any])?["content"] as? String)
        }.joined()
    }

    /// The concatenated `logprobs.token_logprobs` of a streamed completion's chunks.
    package static func tokenLogprobs(_ body: String) -> [Double] {
        events(body).flatMap { data -> [Double] in
            guard let chunk = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any],
                  let logprobs = (chunk["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any] else { return [] }
            return logprobs["token_logprobs"] as? [Double] ?? []
        }
    }

    package static func finishReason(_ body: String) -> String? {
        events(body).compactMap { data -> String? in
            guard let chunk = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else { return nil }
            return (chunk["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String
        }.last
    }
}
