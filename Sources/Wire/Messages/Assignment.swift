/// Router → worker: one request to run, with everything needed to resume it on another worker.
public struct Assignment: Sendable, Equatable {
    public var requestID: UInt64
    /// Milliseconds the request may still run when the router sends this; 0: no deadline. Relative, so
    /// the peers' clocks need not agree.
    public var timeoutMilliseconds: UInt32
    public var prompt: Prompt
    /// Tokens an earlier worker already produced (and the client already received): re-prefilled,
    /// counted towards ``maxTokens``, never emitted again.
    public var producedTokenIDs: [UInt32]
    public var sampling: SamplingParameters
    /// Most tokens to generate, ``producedTokenIDs`` included.
    public var maxTokens: UInt32
    public var stopStrings: [String]
    /// Keep generating past end-of-sequence tokens.
    public var ignoreEOS: Bool
    public var speculation: SpeculationMode
    /// Log-probabilities with every token, and this many alternatives (0 to
    /// ``TokenLogprobs/maxAlternatives``); nil: none (the optional section is left out).
    public var logprobs: UInt8?

    public init(requestID: UInt64, timeoutMilliseconds: UInt32 = 0, prompt: Prompt, producedTokenIDs: [UInt32] = [],
                sampling: SamplingParameters = SamplingParameters(), maxTokens: UInt32, stopStrings: [String] = [],
                ignoreEOS: Bool = false, speculation: SpeculationMode = .auto(cap: nil), logprobs: UInt8? = nil) {
        self.requestID = requestID
        self.timeoutMilliseconds = timeoutMilliseconds
        self.prompt = prompt
        self.producedTokenIDs = producedTokenIDs
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stopStrings = stopStrings
        self.ignoreEOS = ignoreEOS
        self.speculation = speculation
        self.logprobs = logprobs
    }
}

/// The prompt of an assignment. The router is model-agnostic, so it usually sends text or chat
/// messages and the worker tokenizes and applies its chat template.
public enum Prompt: Sendable, Equatable {
    /// A completion prompt, tokenized by the worker.
    case text(String)
    /// Chat messages, rendered by the worker's chat template.
    case chat([ChatMessage])
    /// Token ids, used as they are.
    case tokens([UInt32])
}

/// One chat turn.
public struct ChatMessage: Sendable, Equatable {
    /// `system`, `user`, `assistant` or `tool`, as the client sent it.
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// How a request turns logits into tokens (OpenAI / vLLM semantics). Ranges are validated by the
/// router before sending and again by the worker; the wire only requires finite floats.
public struct SamplingParameters: Sendable, Equatable {
    /// 0: greedy.
    public var temperature: Float
    /// 0: off.
    public var topK: UInt32
    public var topP: Float
    public var minP: Float
    public var repetitionPenalty: Float
    public var presencePenalty: Float
    public var frequencyPenalty: Float
    /// Added to these token ids' logits.
    public var logitBias: [UInt32: Float]
    /// nil: the worker draws a seed.
    public var seed: UInt64?

    public init(temperature: Float = 1, topK: UInt32 = 0, topP: Float = 1, minP: Float = 0,
                repetitionPenalty: Float = 1, presencePenalty: Float = 0, frequencyPenalty: Float = 0,
                logitBias: [UInt32: Float] = [:], seed: UInt64? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.presencePenalty = presencePenalty
        self.frequencyPenalty = frequencyPenalty
        self.logitBias = logitBias
        self.seed = seed
    }
}

/// How many draft tokens a request may verify per step.
public enum SpeculationMode: Sendable, Equatable {
    case off
    /// The worker's budget policy decides, up to `cap` drafts (nil: its maximum).
    case auto(cap: UInt32?)
    /// This many drafts whenever the drafter finds them.
    case fixed(UInt32)
}
