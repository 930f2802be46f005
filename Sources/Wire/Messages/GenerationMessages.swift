/// Worker → router: tokens of one request, in order.
public struct TokenEvent: Sendable, Equatable {
    public var requestID: UInt64
    /// The new token ids (one per step without speculation, up to drafts + 1 with it).
    public var tokenIDs: [UInt32]
    /// The text these tokens complete; may be empty while a UTF-8 sequence or a possible stop string
    /// is pending, and may then cover earlier tokens.
    public var text: String
    /// Parallel to ``tokenIDs`` when the assignment asked for logprobs; nil: the optional section is
    /// left out.
    public var logprobs: [TokenLogprobs]?

    public init(requestID: UInt64, tokenIDs: [UInt32], text: String, logprobs: [TokenLogprobs]? = nil) {
        self.requestID = requestID
        self.tokenIDs = tokenIDs
        self.text = text
        self.logprobs = logprobs
    }
}

/// The log-probability of one emitted token under the model's raw distribution, its bytes, and the
/// most likely alternatives at its position. The router has no tokenizer, so the bytes travel too.
public struct TokenLogprobs: Sendable, Equatable {
    /// Finite and ≤ 0.
    public var logprob: Float
    /// What the token decodes to alone; may be part of a UTF-8 character (byte-level tokens).
    public var bytes: [UInt8]
    /// Most likely first; as many as the assignment asked for.
    public var top: [LogprobAlternative]

    public init(logprob: Float, bytes: [UInt8], top: [LogprobAlternative] = []) {
        self.logprob = logprob
        self.bytes = bytes
        self.top = top
    }

    /// Most alternatives per token, in `assign` and in `tokens`.
    public static let maxAlternatives = 20
}

/// One alternative token at a position.
public struct LogprobAlternative: Sendable, Equatable {
    public var tokenID: UInt32
    public var logprob: Float
    public var bytes: [UInt8]

    public init(tokenID: UInt32, logprob: Float, bytes: [UInt8]) {
        self.tokenID = tokenID
        self.logprob = logprob
        self.bytes = bytes
    }
}

/// Worker → router: a request ended; its last frame.
public struct Finish: Sendable, Equatable {
    public enum Reason: UInt8, Sendable, Equatable {
        /// End-of-sequence or a stop string.
        case stop = 0
        /// `max_tokens`, or the context is full.
        case length = 1
        /// Cancelled by the router (a `cancel` frame) or the deadline passed.
        case cancelled = 2
        /// The worker could not run it; ``Finish/errorMessage`` says why.
        case error = 3
    }

    public var requestID: UInt64
    public var reason: Reason
    public var promptTokens: UInt32
    /// Tokens generated, ``Assignment/producedTokenIDs`` included.
    public var completionTokens: UInt32
    public var speculation: SpeculationCounts
    /// Empty unless ``reason`` is `.error`.
    public var errorMessage: String

    public init(requestID: UInt64, reason: Reason, promptTokens: UInt32, completionTokens: UInt32,
                speculation: SpeculationCounts = SpeculationCounts(), errorMessage: String = "") {
        self.requestID = requestID
        self.reason = reason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.speculation = speculation
        self.errorMessage = errorMessage
    }
}

/// Speculation counts of one request (vLLM's `spec_decode_*` names).
public struct SpeculationCounts: Sendable, Equatable {
    /// Verification steps that carried at least one draft token.
    public var drafts: UInt32
    public var draftTokens: UInt32
    public var acceptedTokens: UInt32
    /// Decode steps of the request, with or without drafts.
    public var steps: UInt32
    /// `acceptedPerPosition[k]`: drafts accepted at depth k + 1.
    public var acceptedPerPosition: [UInt32]

    public init(drafts: UInt32 = 0, draftTokens: UInt32 = 0, acceptedTokens: UInt32 = 0, steps: UInt32 = 0,
                acceptedPerPosition: [UInt32] = []) {
        self.drafts = drafts
        self.draftTokens = draftTokens
        self.acceptedTokens = acceptedTokens
        self.steps = steps
        self.acceptedPerPosition = acceptedPerPosition
    }
}

/// Router → worker: stop a request. The worker answers with its `finish` (reason `cancelled`) unless
/// the request had already finished.
public struct Cancel: Sendable, Equatable {
    public var requestID: UInt64

    public init(requestID: UInt64) {
        self.requestID = requestID
    }
}
