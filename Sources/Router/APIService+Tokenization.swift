import ModelFormat
import HTTPFrontend
import NIOCore
import Wire

// `POST /tokenize` and `POST /detokenize` (vLLM's shapes), answered by a worker of the model.
extension APIService {
    func tokenize(_ body: [UInt8], _ response: any HTTPResponseWriter) async throws {
        let fields = RequestFields(try JSONValue.requestObject(from: body))
        let model = try fields.string("model")
        if try fields.bool("return_token_strs") == true {
            throw OpenAIError.unsupported("return_token_strs", "return_token_strs is not supported yet; leave it out")
        }
        let prompt: Prompt
        let addSpecialTokens: Bool
        if fields["messages"] != nil {
            prompt = try fields.chatPrompt()
            addSpecialTokens = try fields.bool("add_special_tokens") ?? false
        } else if let text = try fields.string("prompt") {
            prompt = .text(text)
            addSpecialTokens = try fields.bool("add_special_tokens") ?? true
        } else {
            throw OpenAIError.invalid("prompt", "\"prompt\" (a string) or \"messages\" is required")
        }
        let addGenerationPrompt = try fields.bool("add_generation_prompt") ?? true
        let answer = try await router.tokenization(model: model) { id in
            .tokenize(TokenizeRequest(requestID: id, addSpecialTokens: addSpecialTokens, addGenerationPrompt: addGenerationPrompt, prompt: prompt))
        }
        try Self.check(answer.result)
        var writer = JSONWriter(capacity: 64 + answer.result.tokenIDs.count * 6)
        writer.beginObject()
        writer.field("count", answer.result.tokenIDs.count)
        writer.field("max_model_len", answer.limits.contextLength)
        writer.key("tokens")
        writer.beginArray()
        for id in answer.result.tokenIDs { writer.integer(id) }
        writer.endArray()
        writer.nullField("token_strs")
        writer.endObject()
        try await Self.respond(json: writer.bytes, response: response)
    }

    func detokenize(_ body: [UInt8], _ response: any HTTPResponseWriter) async throws {
        let fields = RequestFields(try JSONValue.requestObject(from: body))
        let model = try fields.string("model")
        guard case .array(let elements)? = fields["tokens"] else {
            throw OpenAIError.invalid("tokens", "\"tokens\" is required: an array of token ids")
        }
        var ids: [UInt32] = []
        for element in elements {
            guard case .int(let value) = element, let id = UInt32(exactly: value) else {
                throw OpenAIError.invalid("tokens", "tokens holds \(element.kind == "a number" ? "a number that is not a token id" : element.kind); expected integers in [0, 4294967295]")
            }
            ids.append(id)
        }
        let tokenIDs = ids
        let answer = try await router.tokenization(model: model) { id in
            .detokenize(DetokenizeRequest(requestID: id, skipSpecialTokens: false, tokenIDs: tokenIDs))
        }
        try Self.check(answer.result)
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("prompt", answer.result.text)
        writer.endObject()
        try await Self.respond(json: writer.bytes, response: response)
    }

    private static func check(_ result: TokenizationResult) throws {
        guard result.errorMessage.isEmpty else {
            throw OpenAIError.invalid(nil, "the worker refused the request: \(result.errorMessage)", code: "rejected_by_worker")
        }
    }
}
