import Foundation

/// Turns one streamed `/v1/completions` response into a ``RequestRecord``: the status, then the SSE
/// body in whatever pieces the socket delivers (each stamped with its arrival), then the end. A pure
/// state machine, so every rule is testable without a server.
public struct CompletionStream: Sendable {
    public private(set) var record: RequestRecord
    private var parser = SSEParser()
    private var status: Int?
    private var errorBody: [UInt8] = []
    private var done = false

    public init(record: RequestRecord) {
        self.record = record
    }

    public mutating func receive(status: Int) {
        self.status = status
    }

    public mutating func receive<Bytes: Sequence>(_ bytes: Bytes, at time: Double) where Bytes.Element == UInt8 {
        guard status == 200 else {
            if errorBody.count < 4096 { errorBody += bytes.prefix(4096 - errorBody.count) }
            return
        }
        for event in parser.feed(bytes) where record.error == nil {
            handle(event, at: time)
        }
    }

    /// The response ended (or the connection failed, with `failure`). Returns the finished record.
    public mutating func end(at time: Double, failure: String? = nil) -> RequestRecord {
        record.finished = time
        if record.error == nil {
            if let failure {
                record.error = failure
            } else if let status, status != 200 {
                record.error = "HTTP \(status): \(Self.errorMessage(errorBody))"
            } else if status == nil {
                record.error = "no response"
            } else if !done {
                record.error = "the stream ended without data: [DONE]"
            }
        }
        return record
    }

    private mutating func handle(_ event: SSEParser.Event, at time: Double) {
        if event.data == "[DONE]" {
            done = true
            return
        }
        guard !done else { return }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) as? [String: Any] else {
            record.error = "a chunk is not a JSON object: \(event.data.prefix(200))"
            return
        }
        if let error = object["error"] {
            record.error = "error event: \(Self.message(of: error))"
            return
        }
        if let choices = object["choices"] as? [[String: Any]], let choice = choices.first {
            let text = choice["text"] as? String ?? ""
            let reason = choice["finish_reason"] as? String
            // vLLM counts every chunk with a choice; a chunk that only closes the choice (no text,
            // a finish reason) carries no token, so it is no token event here.
            if !(text.isEmpty && reason != nil) { record.chunkTimes.append(time) }
            record.text += text
            if let reason { record.finishReason = reason }
        }
        if let usage = object["usage"] as? [String: Any] {
            record.promptTokens = usage["prompt_tokens"] as? Int ?? record.promptTokens
            record.completionTokens = usage["completion_tokens"] as? Int ?? record.completionTokens
            absorbSpeculation(usage["speculation"])
        }
        absorbSpeculation(object["speculation"])
    }

    /// Specula's per-request speculation counts (repeated on the finish and usage chunks: the last wins).
    static let speculationCounts = ["drafts", "draft_tokens", "accepted_tokens", "steps"]

    private mutating func absorbSpeculation(_ value: Any?) {
        guard let counts = value as? [String: Any] else { return }
        for key in Self.speculationCounts {
            if let number = counts[key] as? Int { record.speculation[key] = number }
        }
    }

    /// The `message` of an OpenAI-shaped error body, else the body's first line.
    static func errorMessage(_ body: [UInt8]) -> String {
        if let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any], let error = object["error"] {
            return message(of: error)
        }
        let text = String(decoding: body, as: UTF8.self)
        return text.split(separator: "\n").first.map(String.init) ?? "(empty body)"
    }

    private static func message(of error: Any) -> String {
        (error as? [String: Any])?["message"] as? String ?? "\(error)"
    }
}
