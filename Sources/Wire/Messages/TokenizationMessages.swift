/// Router → worker: turn text or chat messages into token ids (the router is model-agnostic, so its
/// `/tokenize` route asks a worker of the model). Needs no credit; answered by ``TokenizationResult``.
public struct TokenizeRequest: Sendable, Equatable {
    /// Chosen by the router, from the same space as assignment ids.
    public var requestID: UInt64
    /// Text: add the special tokens generation adds (BOS when the model wants one). Chat: passed to
    /// the encoder after the template is rendered (templates usually write BOS themselves).
    public var addSpecialTokens: Bool
    /// Chat only: end the rendered template with the assistant's turn opener.
    public var addGenerationPrompt: Bool
    /// `.text` or `.chat`; `.tokens` is answered with the ids themselves, checked against the vocabulary.
    public var prompt: Prompt

    public init(requestID: UInt64, addSpecialTokens: Bool, addGenerationPrompt: Bool = true, prompt: Prompt) {
        self.requestID = requestID
        self.addSpecialTokens = addSpecialTokens
        self.addGenerationPrompt = addGenerationPrompt
        self.prompt = prompt
    }
}

/// Router → worker: turn token ids into text. Needs no credit; answered by ``TokenizationResult``.
public struct DetokenizeRequest: Sendable, Equatable {
    public var requestID: UInt64
    /// Leave special tokens (BOS, EOS, ...) out of the text.
    public var skipSpecialTokens: Bool
    public var tokenIDs: [UInt32]

    public init(requestID: UInt64, skipSpecialTokens: Bool = false, tokenIDs: [UInt32]) {
        self.requestID = requestID
        self.skipSpecialTokens = skipSpecialTokens
        self.tokenIDs = tokenIDs
    }
}

/// Worker → router: the answer to a ``TokenizeRequest`` (``tokenIDs``) or ``DetokenizeRequest`` (``text``).
public struct TokenizationResult: Sendable, Equatable {
    public var requestID: UInt64
    /// The ids of a tokenize request; empty for a detokenize request or on error.
    public var tokenIDs: [UInt32]
    /// The text of a detokenize request; empty for a tokenize request or on error.
    public var text: String
    /// Empty on success; otherwise why the request was refused (an id outside the vocabulary, a chat
    /// template that failed), one line.
    public var errorMessage: String

    public init(requestID: UInt64, tokenIDs: [UInt32] = [], text: String = "", errorMessage: String = "") {
        self.requestID = requestID
        self.tokenIDs = tokenIDs
        self.text = text
        self.errorMessage = errorMessage
    }
}
