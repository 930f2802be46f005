/// How many draft tokens a request may verify per step.
public enum SpeculationMode: Sendable, Equatable, Codable {
    /// No drafts: one token per step.
    case off
    /// The budget policy chooses per step, up to `cap` drafts (nil: the engine's maximum).
    case auto(cap: Int?)
    /// Exactly this many drafts whenever the drafter finds them, without adaptation (for comparing drafters).
    case fixed(Int)

    /// Parses `off`, `auto` or a non-negative integer.
    public init(parsing text: String) throws {
        switch text.lowercased() {
        case "off", "0": self = .off
        case "auto": self = .auto(cap: nil)
        default:
            guard let count = Int(text), count > 0 else {
                throw SamplingError("speculation '\(text)' is not one of auto, off, or a positive draft count")
            }
            self = .fixed(count)
        }
    }
}

/// One generation job as the engine sees it: token ids in, token ids and text out.
public struct GenerationRequest: Sendable {
    public var id: UInt64
    /// The prompt as token ids, BOS included when the model wants one.
    public var promptIDs: [Int]
    /// Tokens already generated elsewhere (a request resumed after its worker died): they are
    /// re-prefilled and count towards `maxTokens`, and are not emitted again.
    public var producedIDs: [Int]
    public var parameters: SamplingParameters
    public var maxTokens: Int
    public var stopStrings: [String]
    /// Stop at the model's end-of-sequence tokens (false: `ignore_eos`).
    public var stopAtEOS: Bool
    public var speculation: SpeculationMode
    /// Log-probabilities with each emitted token and this many alternatives (0 to
    /// ``TokenLogprob/maxAlternatives``); nil: none, at no cost.
    public var logprobs: Int?

    public init(id: UInt64, promptIDs: [Int], producedIDs: [Int] = [], parameters: SamplingParameters = .greedy,
                maxTokens: Int, stopStrings: [String] = [], stopAtEOS: Bool = true, speculation: SpeculationMode = .off,
                logprobs: Int? = nil) {
        self.id = id
        self.promptIDs = promptIDs
        self.producedIDs = producedIDs
        self.parameters = parameters
        self.maxTokens = maxTokens
        self.stopStrings = stopStrings
        self.stopAtEOS = stopAtEOS
        self.speculation = speculation
        self.logprobs = logprobs
    }
}

public enum FinishReason: String, Sendable, Codable {
    /// EOS or a stop string.
    case stop
    /// max tokens, or the context is full.
    case length
    /// Cancelled by the client or the router.
    case cancelled
    /// The request cannot run here (e.g. its prompt exceeds the cache); the message says why.
    case error
}

/// Speculation counts of one request (vLLM's `spec_decode_*` names).
public struct SpeculationCounts: Sendable, Equatable, Codable {
    /// Verification steps that carried at least one draft token.
    public var drafts = 0
    public var draftTokens = 0
    public var acceptedTokens = 0
    /// Steps that emitted tokens for this request (decode steps, with or without drafts).
    public var steps = 0
    /// acceptedPerPosition[k]: drafts accepted at depth k + 1.
    public var acceptedPerPosition: [Int] = []

    public init() {}

    /// Tokens emitted per step, counting the one every step yields.
    public var meanAcceptedLength: Double {
        steps == 0 ? 1 : Double(steps + acceptedTokens) / Double(steps)
    }

    public mutating func add(_ other: SpeculationCounts) {
        drafts += other.drafts
        draftTokens += other.draftTokens
        acceptedTokens += other.acceptedTokens
        steps += other.steps
        if acceptedPerPosition.count < other.acceptedPerPosition.count {
            acceptedPerPosition += Array(repeating: 0, count: other.acceptedPerPosition.count - acceptedPerPosition.count)
        }
        for (index, count) in other.acceptedPerPosition.enumerated() { acceptedPerPosition[index] += count }
    }

    /// The counts added since `earlier`, an earlier snapshot of the same counts (undoes `add`).
    public func since(_ earlier: SpeculationCounts) -> SpeculationCounts {
        var delta = self
        delta.drafts -= earlier.drafts
        delta.draftTokens -= earlier.draftTokens
        delta.acceptedTokens -= earlier.acceptedTokens
        delta.steps -= earlier.steps
        for (index, count) in earlier.acceptedPerPosition.enumerated() where index < delta.acceptedPerPosition.count {
            delta.acceptedPerPosition[index] -= count
        }
        return delta
    }
}

public struct Usage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// What the engine tells the owner of a request.
public enum EngineEvent: Sendable, Equatable {
    /// New tokens and the text they complete (ids wait with text pending on UTF-8 or a stop string:
    /// they leave only with their text, see `OutputGate`). `logprobs` is parallel to `ids` when the
    /// request asked for them, else empty.
    case tokens(request: UInt64, ids: [Int], text: String, logprobs: [TokenLogprob])
    /// The request is done; no more events follow for it.
    case finished(request: UInt64, reason: FinishReason, usage: Usage, speculation: SpeculationCounts, message: String?)
}
