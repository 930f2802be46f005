/// How a request turns logits into its next token (OpenAI / vLLM semantics).
public struct SamplingParameters: Sendable, Equatable, Codable {
    /// 0 means greedy (argmax after penalties and bias).
    public var temperature: Float = 1
    /// Keep the k most likely tokens; 0 keeps all.
    public var topK: Int = 0
    /// Keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all.
    public var topP: Float = 1
    /// Drop tokens less likely than minP times the most likely one; 0 keeps all.
    public var minP: Float = 0
    /// HF / vLLM repetition penalty over prompt and output: divides positive logits, multiplies negative ones.
    public var repetitionPenalty: Float = 1
    /// OpenAI penalties over the output so far: presence once per seen token, frequency per occurrence.
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    /// Added to the logits of these token ids (OpenAI `logit_bias`).
    public var logitBias: [Int: Float] = [:]
    /// Seed of the request's own random stream; nil draws one.
    public var seed: UInt64?

    public init(temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                repetitionPenalty: Float = 1, presencePenalty: Float = 0, frequencyPenalty: Float = 0,
                logitBias: [Int: Float] = [:], seed: UInt64? = nil) {
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

    public static let greedy = SamplingParameters(temperature: 0)

    public var isGreedy: Bool { temperature == 0 }

    /// Checks ranges; the message names the parameter, the value and what is allowed.
    public func validate(vocabularySize: Int) throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw SamplingError(message) }
        }
        try check(temperature >= 0 && temperature.isFinite, "temperature \(temperature) must be >= 0")
        try check(topK >= 0, "top_k \(topK) must be >= 0 (0 disables it)")
        try check(topP > 0 && topP <= 1, "top_p \(topP) must be in (0, 1]")
        try check(minP >= 0 && minP <= 1, "min_p \(minP) must be in [0, 1]")
        try check(repetitionPenalty > 0 && repetitionPenalty.isFinite, "repetition_penalty \(repetitionPenalty) must be > 0")
        try check(abs(presencePenalty) <= 2, "presence_penalty \(presencePenalty) must be in [-2, 2]")
        try check(abs(frequencyPenalty) <= 2, "frequency_penalty \(frequencyPenalty) must be in [-2, 2]")
        for (id, bias) in logitBias {
            try check(id >= 0 && id < vocabularySize, "logit_bias token id \(id) is outside the vocabulary [0, \(vocabularySize))")
            try check(bias.isFinite && abs(bias) <= 100, "logit_bias value \(bias) for token \(id) must be in [-100, 100]")
        }
    }
}

public struct SamplingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
