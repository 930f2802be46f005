import Foundation
import NIOCore

/// `GET /v1/models` before the run: proves the server answers (and accepts the API key), and picks
/// the model when none is named, or checks the named one is served.
enum ModelList {
    static func resolve(_ requested: String?, pool: ConnectionPool, options: ServeBenchmark.Options) async throws -> String {
        let head = ServeBenchmark.requestHead(options, path: "/v1/models", method: .GET, contentLength: nil)
        let outcome = await pool.perform(head: head, body: nil, mode: .collect, start: .now(), timeout: .seconds(30))
        let where_ = "\(options.target)/v1/models"
        if let failure = outcome.failure { throw BenchError("\(where_): \(failure)") }
        let body = outcome.body.map { Array($0.readableBytesView) } ?? []
        guard outcome.status == 200 else {
            let hint = outcome.status == 401 ? " (give the API key: --api-key or OPENAI_API_KEY)" : ""
            throw BenchError("\(where_): HTTP \(outcome.status ?? 0): \(CompletionStream.errorMessage(body))\(hint)")
        }
        let ids = ids(in: body)
        if let requested {
            guard ids.contains(requested) else {
                throw BenchError("--model '\(requested)' is not served by \(options.target) (it serves: \(ids.joined(separator: ", ")))")
            }
            return requested
        }
        guard let first = ids.first else { throw BenchError("\(where_) lists no model") }
        return first
    }

    /// The `id`s of an OpenAI model list, `{"data": [{"id": ...}]}`.
    static func ids(in body: [UInt8]) -> [String] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
              let data = object["data"] as? [[String: Any]] else { return [] }
        return data.compactMap { $0["id"] as? String }
    }
}
