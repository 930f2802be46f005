import Tokenization
import Wire

// Chat rendering and the router's `tokenize` / `detokenize` requests (the router is model-agnostic,
// so its `/tokenize` and `/detokenize` routes come here).
extension WorkerModel {
    /// Used when the model has no chat template (base models such as the bundled pycode-6m): the
    /// messages' contents joined by newlines, after BOS when generation starts prompts with one, so a
    /// one-message chat is exactly the completion prompt of the same text.
    static let fallbackChatTemplate =
        "{{ bos_token }}{% for message in messages %}{% if not loop.first %}{{ '\\n' }}{% endif %}{{ message['content'] }}{% endfor %}"

    /// The chat template's text for `messages` (the model's template, or ``fallbackChatTemplate``).
    func render(_ messages: [Wire.ChatMessage], addGenerationPrompt: Bool) throws -> String {
        let source = tokenizer.chatTemplate ?? Self.fallbackChatTemplate
        let bosToken = tokenizer.chatTemplate != nil || startsPromptsWithBOS ? tokenizer.bosToken : ""
        do {
            return try ChatTemplate(source: source).render(
                messages: messages.map { Tokenization.ChatMessage(role: $0.role, content: $0.content) },
                addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: tokenizer.eosToken)
        } catch {
            throw WorkerError("chat prompt: the chat template failed: \(error)")
        }
    }

    /// Whether generation puts BOS in front of a text prompt.
    private var startsPromptsWithBOS: Bool {
        guard let bos = tokenizer.bosTokenID else { return false }
        return tokenizer.promptIDs("").first == bos
    }

    /// The ids of a `tokenize` request. Text with `addSpecialTokens` gives exactly the ids generation
    /// starts from; chat renders the template and encodes it with or without added special tokens.
    /// - Throws: `WorkerError` (the template failed, an id outside the vocabulary).
    public func tokenIDs(for request: TokenizeRequest) throws -> [UInt32] {
        let ids: [Int]
        switch request.prompt {
        case .text(let text):
            ids = request.addSpecialTokens ? tokenizer.promptIDs(text) : tokenizer.encode(text, addSpecialTokens: false)
        case .chat(let messages):
            let rendered = try render(messages, addGenerationPrompt: request.addGenerationPrompt)
            ids = tokenizer.encode(rendered, addSpecialTokens: request.addSpecialTokens)
        case .tokens(let given):
            ids = try checkedIDs(given, field: "token ids")
        }
        return ids.map { UInt32($0) }
    }

    /// The text of a `detokenize` request.
    /// - Throws: `WorkerError` naming an id outside the vocabulary.
    public func text(for request: DetokenizeRequest) throws -> String {
        tokenizer.decode(try checkedIDs(request.tokenIDs, field: "token ids"), skipSpecialTokens: request.skipSpecialTokens)
    }

    /// The answer to a `tokenize` request; a failure becomes its error message.
    public func answer(_ request: TokenizeRequest) -> TokenizationResult {
        do {
            return TokenizationResult(requestID: request.requestID, tokenIDs: try tokenIDs(for: request))
        } catch {
            return TokenizationResult(requestID: request.requestID, errorMessage: "\(error)")
        }
    }

    /// The answer to a `detokenize` request; a failure becomes its error message.
    public func answer(_ request: DetokenizeRequest) -> TokenizationResult {
        do {
            return TokenizationResult(requestID: request.requestID, text: try text(for: request))
        } catch {
            return TokenizationResult(requestID: request.requestID, errorMessage: "\(error)")
        }
    }
}
