import ModelFormat
import Wire

/// The JSONValue of one generation response, both routes: the whole body of a plain response and the
/// chunks of a streamed one (OpenAI's shapes; `Protocols/http-api.md`, "Responses").
struct ResponseRenderer: Sendable {
    let route: APIRequest.Route
    /// `cmpl-…` or `chatcmpl-…`.
    let id: String
    /// Unix seconds.
    let created: Int
    let model: String
    /// Streaming with `include_usage`: every chunk carries `"usage": null` until the usage chunk.
    let includeUsage: Bool
    /// Set when the request asked for logprobs (`"logprobs": null` otherwise); it keeps the text offset
    /// across a stream's chunks.
    private var logprobs: LogprobsRenderer?

    init(route: APIRequest.Route, id: String, created: Int, model: String, includeUsage: Bool, logprobs: Bool = false) {
        self.route = route
        self.id = id
        self.created = created
        self.model = model
        self.includeUsage = includeUsage
        self.logprobs = logprobs ? LogprobsRenderer(route: route) : nil
    }

    private var chunkObject: String { route == .completion ? "text_completion" : "chat.completion.chunk" }

    /// A streamed piece of text, with the logprobs of its tokens when the request asked for them.
    mutating func textChunk(_ text: String, logprobs entries: [TokenLogprobs] = []) -> [UInt8] {
        var state = logprobs
        defer { logprobs = state }
        return chunk { writer in
            switch route {
            case .completion: writer.field("text", text)
            case .chat:
                writer.key("delta")
                writer.beginObject()
                writer.field("content", text)
                writer.endObject()
            }
        } logprobs: { writer in
            Self.writeLogprobs(entries, &state, into: &writer)
        } finish: { $0.nullField("finish_reason") }
    }

    /// Chat's first chunk: the assistant role, empty content (nil for completions).
    func roleChunk() -> [UInt8]? {
        guard route == .chat else { return nil }
        return chunk { writer in
            writer.key("delta")
            writer.beginObject()
            writer.field("role", "assistant")
            writer.field("content", "")
            writer.endObject()
        } finish: { $0.nullField("finish_reason") }
    }

    /// The chunk that ends the choice, with its finish reason and the speculation counts.
    func finishChunk(_ summary: RequestSummary) -> [UInt8] {
        chunk { writer in
            switch route {
            case .completion: writer.field("text", "")
            case .chat:
                writer.key("delta")
                writer.beginObject()
                writer.endObject()
            }
        } finish: { $0.field("finish_reason", summary.reason.rawValue) } extra: { writer in
            Self.speculation(summary.speculation, into: &writer)
        }
    }

    /// With `include_usage`, the last chunk before `[DONE]`: no choices, the usage.
    func usageChunk(_ summary: RequestSummary) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        header(&writer, object: chunkObject)
        writer.key("choices")
        writer.beginArray()
        writer.endArray()
        Self.usage(summary, into: &writer)
        Self.speculation(summary.speculation, into: &writer)
        writer.endObject()
        return writer.bytes
    }

    /// A whole (non-streamed) response.
    mutating func whole(text: String, logprobs entries: [TokenLogprobs] = [], summary: RequestSummary) -> [UInt8] {
        var writer = JSONWriter(capacity: text.utf8.count + 512)
        writer.beginObject()
        header(&writer, object: route == .completion ? "text_completion" : "chat.completion")
        writer.key("choices")
        writer.beginArray()
        writer.beginObject()
        writer.field("index", 0)
        switch route {
        case .completion:
            writer.field("text", text)
        case .chat:
            writer.key("message")
            writer.beginObject()
            writer.field("role", "assistant")
            writer.field("content", text)
            writer.endObject()
        }
        Self.writeLogprobs(entries, &logprobs, into: &writer)
        writer.field("finish_reason", summary.reason.rawValue)
        writer.endObject()
        writer.endArray()
        Self.usage(summary, into: &writer)
        Self.speculation(summary.speculation, into: &writer)
        writer.endObject()
        return writer.bytes
    }

    /// `"logprobs"`: the object of `entries` when the request asked for logprobs, else null (as in
    /// the role and finish chunks, which carry no tokens).
    private static func writeLogprobs(_ entries: [TokenLogprobs], _ renderer: inout LogprobsRenderer?, into writer: inout JSONWriter) {
        guard renderer != nil else { return writer.nullField("logprobs") }
        writer.key("logprobs")
        renderer!.write(entries, into: &writer)
    }

    private func chunk(_ body: (inout JSONWriter) -> Void, logprobs: (inout JSONWriter) -> Void = { $0.nullField("logprobs") },
                       finish: (inout JSONWriter) -> Void, extra: (inout JSONWriter) -> Void = { _ in }) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        header(&writer, object: chunkObject)
        writer.key("choices")
        writer.beginArray()
        writer.beginObject()
        writer.field("index", 0)
        body(&writer)
        logprobs(&writer)
        finish(&writer)
        writer.endObject()
        writer.endArray()
        if includeUsage { writer.nullField("usage") }
        extra(&writer)
        writer.endObject()
        return writer.bytes
    }

    private func header(_ writer: inout JSONWriter, object: String) {
        writer.field("id", id)
        writer.field("object", object)
        writer.field("created", created)
        writer.field("model", model)
    }

    static func usage(_ summary: RequestSummary, into writer: inout JSONWriter) {
        writer.key("usage")
        writer.beginObject()
        writer.field("prompt_tokens", summary.promptTokens)
        writer.field("completion_tokens", summary.completionTokens)
        writer.field("total_tokens", summary.promptTokens + summary.completionTokens)
        writer.endObject()
    }

    /// The extension: this request's speculation counts (of the worker that finished it).
    static func speculation(_ counts: SpeculationCounts, into writer: inout JSONWriter) {
        writer.key("speculation")
        writer.beginObject()
        writer.field("drafts", counts.drafts)
        writer.field("draft_tokens", counts.draftTokens)
        writer.field("accepted_tokens", counts.acceptedTokens)
        writer.field("steps", counts.steps)
        let steps = Double(counts.steps)
        writer.field("mean_accepted_length", counts.steps == 0 ? 1.0 : (steps + Double(counts.acceptedTokens)) / steps)
        writer.endObject()
    }

    /// The body of an error: `{"error": {"message", "type", "param", "code"}}`.
    static func error(_ error: OpenAIError) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.field("message", error.message)
        writer.field("type", error.type)
        writer.field("param", error.param)
        writer.field("code", error.code)
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }
}

/// Server-sent events framing: `data: <json>\n\n`, and the stream's end `data: [DONE]\n\n`.
enum SSE {
    static let contentType = "text/event-stream"
    static let done: [UInt8] = Array("data: [DONE]\n\n".utf8)

    static func event(_ json: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(json.count + 8)
        bytes.append(contentsOf: "data: ".utf8)
        bytes.append(contentsOf: json)
        bytes.append(contentsOf: [UInt8(ascii: "\n"), UInt8(ascii: "\n")])
        return bytes
    }
}
