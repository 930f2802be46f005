public import Engine
public import Tokenization
public import Wire

/// What the worker serves: the model's id and limits (sent in `register`) and the tokenizer that
/// turns assignments' text and chat prompts into token ids.
public struct WorkerModel: Sendable {
    public var id: String
    public var tokenizer: Tokenizer
    public var vocabularySize: Int
    /// Positions per sequence, prompt + output.
    public var contextLength: Int
    /// Tokens the KV cache holds over all sequences.
    public var kvCapacityTokens: Int
    /// Whether the engine drafts (false: every request runs with speculation off).
    public var supportsSpeculation: Bool

    public init(id: String, tokenizer: Tokenizer, vocabularySize: Int, contextLength: Int, kvCapacityTokens: Int,
                supportsSpeculation: Bool) {
        self.id = id
        self.tokenizer = tokenizer
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.kvCapacityTokens = kvCapacityTokens
        self.supportsSpeculation = supportsSpeculation
    }

    /// Longest prompt accepted: the context less one position to generate into, within the cache.
    public var maxPromptTokens: Int { max(0, min(contextLength, kvCapacityTokens) - 1) }

    /// The `register` frame for a worker running `capacity` requests at once.
    public func register(capacity: Int) -> Register {
        Register(modelID: id, contextLength: UInt32(clamping: contextLength), maxBatchSequences: UInt32(clamping: capacity),
                 kvCapacityTokens: UInt32(clamping: kvCapacityTokens), maxPromptTokens: UInt32(clamping: maxPromptTokens),
                 maxOutputTokens: UInt32(clamping: maxPromptTokens), supportsSpeculation: supportsSpeculation)
    }

    /// The engine's request for an assignment, under the worker-local id `engineID`: the prompt
    /// tokenized or rendered, every range checked.
    /// - Throws: `WorkerError` naming the field, the value and what is allowed (sent back as `finish`
    ///   reason `error`; the connection stays up).
    public func request(for assignment: Assignment, engineID: UInt64) throws -> GenerationRequest {
        let promptIDs = try tokenize(assignment.prompt)
        guard !promptIDs.isEmpty else { throw WorkerError("the prompt is empty after tokenization; expected at least one token") }
        guard promptIDs.count <= maxPromptTokens else {
            throw WorkerError("the prompt has \(promptIDs.count) tokens; this worker accepts at most \(maxPromptTokens)")
        }
        let produced = try checkedIDs(assignment.producedTokenIDs, field: "produced_token_ids")
        guard promptIDs.count + produced.count < contextLength else {
            throw WorkerError("prompt (\(promptIDs.count)) + produced_token_ids (\(produced.count)) fill the context of \(contextLength) positions")
        }
        let parameters = try Self.sampling(assignment.sampling)
        do {
            try parameters.validate(vocabularySize: vocabularySize)
        } catch {
            throw WorkerError("\(error)")
        }
        return GenerationRequest(
            id: engineID, promptIDs: promptIDs, producedIDs: produced, parameters: parameters,
            maxTokens: Int(assignment.maxTokens), stopStrings: assignment.stopStrings, stopAtEOS: !assignment.ignoreEOS,
            speculation: supportsSpeculation ? Self.speculation(assignment.speculation) : .off,
            logprobs: assignment.logprobs.map(Int.init))
    }

    /// The engine's logprobs of `ids` as the wire carries them: with each token's bytes, since the
    /// router has no tokenizer (a token may be part of a UTF-8 character; the router renders it).
    func wireLogprobs(_ ids: [Int], _ logprobs: [TokenLogprob]) -> [TokenLogprobs] {
        zip(ids, logprobs).map { id, entry in
            TokenLogprobs(logprob: entry.logprob, bytes: tokenizer.tokenBytes(id), top: entry.top.map { candidate in
                LogprobAlternative(tokenID: UInt32(clamping: candidate.token), logprob: candidate.logprob,
                                   bytes: tokenizer.tokenBytes(candidate.token))
            })
        }
    }

    func tokenize(_ prompt: Prompt) throws -> [Int] {
        switch prompt {
        case .text(let text):
            return tokenizer.promptIDs(text)
        case .chat(let messages):
            return tokenizer.encode(try render(messages, addGenerationPrompt: true), addSpecialTokens: false)
        case .tokens(let ids):
            return try checkedIDs(ids, field: "prompt token ids")
        }
    }

    func checkedIDs(_ ids: [UInt32], field: String) throws -> [Int] {
        if let bad = ids.first(where: { Int($0) >= vocabularySize }) {
            throw WorkerError("\(field): token id \(bad) is outside the vocabulary [0, \(vocabularySize))")
        }
        return ids.map(Int.init)
    }

    static func sampling(_ wire: Wire.SamplingParameters) throws -> Engine.SamplingParameters {
        Engine.SamplingParameters(
            temperature: wire.temperature, topK: Int(wire.topK), topP: wire.topP, minP: wire.minP,
            repetitionPenalty: wire.repetitionPenalty, presencePenalty: wire.presencePenalty,
            frequencyPenalty: wire.frequencyPenalty,
            logitBias: Dictionary(uniqueKeysWithValues: wire.logitBias.map { (Int($0.key), $0.value) }), seed: wire.seed)
    }

    static func speculation(_ wire: Wire.SpeculationMode) -> Engine.SpeculationMode {
        switch wire {
        case .off: .off
        case .auto(let cap): .auto(cap: cap.map(Int.init))
        case .fixed(let count): .fixed(Int(count))
        }
    }
}
