import ModelFormat
import NIOCore
import Wire

/// The parameters both generation routes share, mapped onto the wire's ``Assignment``
/// (`Protocols/http-api.md`, "Parameters"): sampling, stop strings, `max_tokens`, `ignore_eos`,
/// `seed`, `logit_bias`, `logprobs`/`top_logprobs`, the `speculation` and `timeout` extensions, and
/// the refusals of what Specula does not offer (`n` > 1).
extension RequestFields {
    /// Stop strings per request, and bytes per stop string.
    static let maxStopStrings = 16
    static let maxStopBytes = 256
    /// Entries of `logit_bias`.
    static let maxLogitBias = 1024

    func sampling() throws(OpenAIError) -> SamplingParameters {
        var sampling = SamplingParameters()
        sampling.temperature = Float(try number("temperature", in: 0...2) ?? 1)
        sampling.topP = Float(try number("top_p", in: 0...1, exclusiveLower: true) ?? 1)
        if let topK = try integer("top_k", in: -1...Int64(UInt32.max)) {
            sampling.topK = topK <= 0 ? 0 : UInt32(topK)
        }
        sampling.minP = Float(try number("min_p", in: 0...1) ?? 0)
        sampling.presencePenalty = Float(try number("presence_penalty", in: -2...2) ?? 0)
        sampling.frequencyPenalty = Float(try number("frequency_penalty", in: -2...2) ?? 0)
        sampling.repetitionPenalty = Float(try number("repetition_penalty", in: 0...10, exclusiveLower: true) ?? 1)
        if let seed = try integer("seed", in: Int64.min...Int64.max) {
            sampling.seed = UInt64(bitPattern: seed)
        }
        sampling.logitBias = try logitBias()
        return sampling
    }

    /// `{"token id": bias}` with ids as decimal strings and biases in [-100, 100].
    func logitBias() throws(OpenAIError) -> [UInt32: Float] {
        guard let value = self["logit_bias"] else { return [:] }
        guard case .object(let entries) = value else { throw Self.wrongType("logit_bias", value, "an object of token id → bias") }
        guard entries.count <= Self.maxLogitBias else {
            throw .invalid("logit_bias", "logit_bias has \(entries.count) entries; at most \(Self.maxLogitBias) are allowed")
        }
        var biases: [UInt32: Float] = [:]
        for (key, bias) in entries {
            guard let id = UInt32(key) else {
                throw .invalid("logit_bias", "logit_bias key '\(key)' is not a token id; expected a non-negative integer as a string")
            }
            let number: Double
            switch bias {
            case .int(let integer): number = Double(integer)
            case .double(let double): number = double
            default: throw Self.wrongType("logit_bias[\(key)]", bias, "a number")
            }
            guard (-100...100).contains(number) else {
                throw .invalid("logit_bias", "logit_bias[\(key)] is \(formatNumber(number)); expected a number in [-100, 100]")
            }
            biases[id] = Float(number)
        }
        return biases
    }

    /// `"auto"` (default), `"off"`, or a positive draft count per step.
    func speculation() throws(OpenAIError) -> SpeculationMode {
        guard let value = self["speculation"] else { return .auto(cap: nil) }
        switch value {
        case .string("auto"): return .auto(cap: nil)
        case .string("off"): return .off
        case .int(let count) where count == 0: return .off
        case .int(let count) where count > 0 && count <= 256: return .fixed(UInt32(count))
        default:
            throw .invalid("speculation", "speculation is \(Self.show(value)); expected \"auto\", \"off\" or a draft count in 1-256")
        }
    }

    /// Completions' `logprobs`: how many alternatives to return per token, 0-20 (OpenAI allows 5,
    /// vLLM a server maximum); nil: none.
    func completionLogprobs() throws(OpenAIError) -> UInt8? {
        try integer("logprobs", in: 0...Int64(TokenLogprobs.maxAlternatives)).map { UInt8($0) }
    }

    /// Chat's `logprobs: true` with `top_logprobs` alternatives (0-20, default 0); `top_logprobs`
    /// without `logprobs: true` is refused, as OpenAI does.
    func chatLogprobs() throws(OpenAIError) -> UInt8? {
        let wanted = try bool("logprobs") ?? false
        let top = try integer("top_logprobs", in: 0...Int64(TokenLogprobs.maxAlternatives))
        if top != nil && !wanted {
            throw .invalid("top_logprobs", "top_logprobs needs \"logprobs\": true; send both, or leave top_logprobs out")
        }
        return wanted ? UInt8(top ?? 0) : nil
    }

    /// `max_completion_tokens` or its older name `max_tokens` (nil: the route's default).
    func maxTokens() throws(OpenAIError) -> UInt32? {
        let newer = try integer("max_completion_tokens", in: 1...Int64(UInt32.max))
        let older = try integer("max_tokens", in: 1...Int64(UInt32.max))
        if let newer, let older, newer != older {
            throw .invalid("max_tokens", "max_tokens (\(older)) and max_completion_tokens (\(newer)) disagree; send one of them")
        }
        return (newer ?? older).map(UInt32.init)
    }

    /// The request's deadline: `timeout` seconds, else the router's default.
    func timeout(default fallback: TimeAmount, max: TimeAmount) throws(OpenAIError) -> TimeAmount {
        let limit = Double(max.nanoseconds) / 1e9
        guard let seconds = try number("timeout", in: 0...limit, exclusiveLower: true) else { return fallback }
        return .nanoseconds(Int64(seconds * 1e9))
    }

    /// `n` must be 1 (absent or null is 1).
    func checkSingleChoice() throws(OpenAIError) {
        if let n = try integer("n", in: 1...Int64.max), n > 1 {
            throw .unsupported("n", "n is \(n); Specula returns one choice per request: send n = 1 (or leave it out) and send parallel requests instead")
        }
    }

    private static func show(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): "\"\(text)\""
        case .int(let integer): "\(integer)"
        case .double(let number): formatNumber(number)
        default: value.kind
        }
    }
}
