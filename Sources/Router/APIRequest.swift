import ModelFormat
public import NIOCore
import Wire

/// Limits and defaults of the generation routes.
public struct APISettings: Sendable {
    /// A request's deadline when it gives no `timeout`.
    public var requestTimeout: TimeAmount
    /// Longest `timeout` accepted.
    public var maxRequestTimeout: TimeAmount
    /// `max_tokens` of `/v1/completions` when absent (OpenAI's default). Chat defaults to the model's limit.
    public var completionMaxTokens: UInt32
    /// Largest assignment frame payload, in bytes: what does not fit the wire's 1 MiB frames (with
    /// room for compression overhead) is refused with 413 before it reaches a worker.
    public var maxAssignmentBytes: Int

    public init(requestTimeout: TimeAmount = .seconds(600), maxRequestTimeout: TimeAmount = .seconds(3600),
                completionMaxTokens: UInt32 = 16, maxAssignmentBytes: Int = WireLimits.default.maxFrameBytes - 16 * 1024) {
        self.requestTimeout = requestTimeout
        self.maxRequestTimeout = maxRequestTimeout
        self.completionMaxTokens = completionMaxTokens
        self.maxAssignmentBytes = maxAssignmentBytes
    }
}

/// A parsed, validated `POST /v1/completions` or `POST /v1/chat/completions` body.
struct APIRequest: Sendable {
    enum Route: Sendable {
        case completion
        case chat
    }

    let route: Route
    var job: GenerationJob
    var stream: Bool
    /// `stream_options.include_usage`: a last chunk with `usage` before `[DONE]`.
    var includeUsage: Bool

    /// Roles a chat message may have.
    static let chatRoles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    /// - Throws: ``OpenAIError`` 400 naming the field, or 413 when the prompt cannot cross the wire.
    static func parse(_ body: [UInt8], route: Route, settings: APISettings) throws(OpenAIError) -> APIRequest {
        let fields = RequestFields(try JSONValue.requestObject(from: body))
        guard let model = try fields.string("model"), !model.isEmpty else {
            throw .invalid("model", "\"model\" is required: the id of a served model (GET /v1/models lists them)")
        }
        try fields.checkSingleChoice()
        try route == .completion ? fields.checkCompletionExtras() : fields.checkChatExtras()
        let stream = try fields.bool("stream") ?? false
        let includeUsage = try fields.includeUsage(streaming: stream)
        let prompt = try route == .completion ? fields.completionPrompt() : fields.chatPrompt()
        var assignment = Assignment(requestID: 0, prompt: prompt, sampling: try fields.sampling(), maxTokens: 0,
                                    stopStrings: try fields.strings("stop", maxCount: RequestFields.maxStopStrings, maxBytes: RequestFields.maxStopBytes),
                                    ignoreEOS: try fields.bool("ignore_eos") ?? false, speculation: try fields.speculation(),
                                    logprobs: try route == .completion ? fields.completionLogprobs() : fields.chatLogprobs())
        var maxTokens = try fields.maxTokens()
        if maxTokens == nil && route == .completion { maxTokens = settings.completionMaxTokens }
        assignment.maxTokens = maxTokens ?? 0
        var payload = ByteBuffer()
        WireMessage.assign(assignment).encodePayload(into: &payload)
        guard payload.readableBytes <= settings.maxAssignmentBytes else {
            throw .tooLarge("the prompt takes \(payload.readableBytes) bytes; a request may carry at most \(settings.maxAssignmentBytes)")
        }
        let timeout = try fields.timeout(default: settings.requestTimeout, max: settings.maxRequestTimeout)
        return APIRequest(route: route, job: GenerationJob(model: model, assignment: assignment, maxTokens: maxTokens, timeout: timeout),
                          stream: stream, includeUsage: includeUsage)
    }
}

extension RequestFields {
    func includeUsage(streaming: Bool) throws(OpenAIError) -> Bool {
        guard let options = self["stream_options"] else { return false }
        guard streaming else { throw .invalid("stream_options", "stream_options is only allowed with \"stream\": true") }
        guard case .object(let object) = options else { throw Self.wrongType("stream_options", options, "an object") }
        return try RequestFields(object).bool("include_usage") ?? false
    }

    /// `prompt`: a string, one token id list, or an array holding one of them.
    func completionPrompt() throws(OpenAIError) -> Prompt {
        guard let value = self["prompt"] else { throw .invalid("prompt", "\"prompt\" is required: a string or an array of token ids") }
        switch value {
        case .string(let text):
            return .text(text)
        case .array(let elements):
            if elements.count == 1, case .string(let text) = elements[0] { return .text(text) }
            if elements.count == 1, case .array(let ids) = elements[0] { return .tokens(try Self.tokenIDs(ids)) }
            if !elements.isEmpty, elements.allSatisfy({ if case .int = $0 { true } else { false } }) {
                return .tokens(try Self.tokenIDs(elements))
            }
            if elements.count > 1, elements.allSatisfy({ if case .int = $0 { false } else { true } }) {
                throw .unsupported("prompt", "prompt holds \(elements.count) prompts; Specula takes one prompt per request: send one request per prompt")
            }
            throw .invalid("prompt", "prompt is an array that is neither one string nor a list of token ids")
        default:
            throw Self.wrongType("prompt", value, "a string or an array of token ids")
        }
    }

    private static func tokenIDs(_ elements: [JSONValue]) throws(OpenAIError) -> [UInt32] {
        guard !elements.isEmpty else { throw .invalid("prompt", "prompt is an empty list of token ids") }
        var ids: [UInt32] = []
        ids.reserveCapacity(elements.count)
        for element in elements {
            guard case .int(let id) = element, let token = UInt32(exactly: id) else {
                throw .invalid("prompt", "prompt token id \(element) is not an integer in [0, 4294967295]")
            }
            ids.append(token)
        }
        return ids
    }

    /// `messages`: roles and text contents (a string or text parts), rendered by the worker.
    func chatPrompt() throws(OpenAIError) -> Prompt {
        guard let value = self["messages"] else { throw .invalid("messages", "\"messages\" is required: an array of {\"role\", \"content\"}") }
        guard case .array(let elements) = value, !elements.isEmpty else {
            throw .invalid("messages", "messages is \(value.kind == "an array" ? "empty" : value.kind); expected a non-empty array of {\"role\", \"content\"}")
        }
        var messages: [ChatMessage] = []
        for (index, element) in elements.enumerated() {
            let name = "messages[\(index)]"
            guard case .object(let object) = element else { throw Self.wrongType(name, element, "an object") }
            let message = RequestFields(object)
            guard let role = try message.string("role"), APIRequest.chatRoles.contains(role) else {
                throw .invalid("\(name).role", "\(name).role must be one of \(APIRequest.chatRoles.sorted().joined(separator: ", "))")
            }
            if message["tool_calls"] != nil || message["function_call"] != nil {
                throw .unsupported("\(name).tool_calls", "\(name) carries tool calls; Specula does not support tools yet")
            }
            messages.append(ChatMessage(role: role, content: try Self.content(message["content"], name: "\(name).content")))
        }
        return .chat(messages)
    }

    private static func content(_ value: JSONValue?, name: String) throws(OpenAIError) -> String {
        switch value {
        case nil: return ""
        case .string(let text)?: return text
        case .array(let parts)?:
            var text = ""
            for (index, part) in parts.enumerated() {
                guard case .object(let object) = part, object["type"] == .string("text"), case .string(let piece)? = object["text"] else {
                    throw .unsupported("\(name)[\(index)]", "\(name)[\(index)] is not a text part ({\"type\": \"text\", \"text\": ...}); only text content is supported")
                }
                text += piece
            }
            return text
        case let other?:
            throw wrongType(name, other, "a string or an array of text parts")
        }
    }

    /// Completions fields Specula does not offer: `echo`, `suffix`, `best_of` > 1.
    func checkCompletionExtras() throws(OpenAIError) {
        if try bool("echo") == true { throw .unsupported("echo", "echo is not supported; leave it out or false") }
        if self["suffix"] != nil { throw .unsupported("suffix", "suffix (insertion) is not supported; leave it out") }
        if let bestOf = try integer("best_of", in: 1...Int64.max), bestOf > 1 {
            throw .unsupported("best_of", "best_of is \(bestOf); Specula generates one sequence per request (best_of 1)")
        }
    }

    /// Chat fields Specula does not offer: tools, non-text response formats.
    func checkChatExtras() throws(OpenAIError) {
        if case .array(let tools)? = self["tools"], !tools.isEmpty {
            throw .unsupported("tools", "tools are not supported yet; leave \"tools\" out")
        }
        if self["functions"] != nil { throw .unsupported("functions", "functions are not supported yet; leave them out") }
        if let choice = self["tool_choice"], choice != .string("none") {
            throw .unsupported("tool_choice", "tool_choice is not supported yet; leave it out or \"none\"")
        }
        if case .object(let format)? = self["response_format"], format["type"] != .string("text") {
            throw .unsupported("response_format", "response_format other than {\"type\": \"text\"} is not supported yet")
        }
    }
}
