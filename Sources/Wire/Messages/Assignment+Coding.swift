import NIOCore

extension Assignment {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(requestID)
        buffer.writeInteger(timeoutMilliseconds)
        buffer.writeInteger(maxTokens)
        buffer.writeWireBool(ignoreEOS)
        speculation.encode(into: &buffer)
        sampling.encode(into: &buffer)
        buffer.writeWireStrings(stopStrings)
        prompt.encode(into: &buffer)
        buffer.writeWireTokenIDs(producedTokenIDs)
        if let logprobs { buffer.writeInteger(logprobs) }
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        requestID = try reader.integer("request_id")
        timeoutMilliseconds = try reader.integer("timeout_ms")
        maxTokens = try reader.integer("max_tokens")
        ignoreEOS = try reader.bool("ignore_eos")
        speculation = try SpeculationMode(from: &reader)
        sampling = try SamplingParameters(from: &reader)
        stopStrings = try reader.strings("stop")
        prompt = try Prompt(from: &reader)
        producedTokenIDs = try reader.tokenIDs("produced_token_ids")
        logprobs = nil
        if reader.hasMore {
            let alternatives: UInt8 = try reader.integer("logprobs")
            guard alternatives <= TokenLogprobs.maxAlternatives else {
                throw reader.malformed("logprobs", "is \(alternatives); expected 0-\(TokenLogprobs.maxAlternatives) alternatives")
            }
            logprobs = alternatives
        }
    }
}

extension SpeculationMode {
    /// `kind: u8` (0 off, 1 auto, 2 fixed) then `value: u32` (auto: cap, 0 = none; fixed: drafts ≥ 1).
    func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .off: buffer.writeMultipleIntegers(UInt8(0), UInt32(0))
        case .auto(let cap): buffer.writeMultipleIntegers(UInt8(1), cap ?? 0)
        case .fixed(let count): buffer.writeMultipleIntegers(UInt8(2), count)
        }
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        let kind: UInt8 = try reader.integer("speculation_kind")
        let value: UInt32 = try reader.integer("speculation_value")
        switch kind {
        case 0 where value == 0: self = .off
        case 1: self = .auto(cap: value == 0 ? nil : value)
        case 2 where value > 0: self = .fixed(value)
        default:
            throw reader.malformed("speculation", "kind \(kind) with value \(value); expected 0 (off, value 0), 1 (auto, cap or 0) or 2 (fixed, count >= 1)")
        }
    }
}

extension SamplingParameters {
    func encode(into buffer: inout ByteBuffer) {
        for value in [temperature, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty] {
            buffer.writeWireFloat(value)
        }
        buffer.writeInteger(topK)
        buffer.writeWireBool(seed != nil)
        buffer.writeInteger(seed ?? 0)
        buffer.writeInteger(UInt32(logitBias.count))
        for (id, bias) in logitBias.sorted(by: { $0.key < $1.key }) {
            buffer.writeInteger(id)
            buffer.writeWireFloat(bias)
        }
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        temperature = try reader.float("temperature")
        topP = try reader.float("top_p")
        minP = try reader.float("min_p")
        repetitionPenalty = try reader.float("repetition_penalty")
        presencePenalty = try reader.float("presence_penalty")
        frequencyPenalty = try reader.float("frequency_penalty")
        topK = try reader.integer("top_k")
        let hasSeed = try reader.bool("has_seed")
        let seed: UInt64 = try reader.integer("seed")
        self.seed = hasSeed ? seed : nil
        let count = try reader.count("logit_bias", minimumElementBytes: 8)
        logitBias = Dictionary(minimumCapacity: count)
        for _ in 0..<count {
            let id: UInt32 = try reader.integer("logit_bias.id")
            let bias = try reader.float("logit_bias[\(id)]")
            guard logitBias.updateValue(bias, forKey: id) == nil else {
                throw reader.malformed("logit_bias", "token id \(id) appears twice")
            }
        }
    }
}

extension Prompt {
    /// `kind: u8` (0 text, 1 chat, 2 token ids) then the data.
    func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .text(let text):
            buffer.writeInteger(UInt8(0))
            buffer.writeWireString(text)
        case .chat(let messages):
            buffer.writeInteger(UInt8(1))
            buffer.writeInteger(UInt32(messages.count))
            for message in messages {
                buffer.writeWireString(message.role)
                buffer.writeWireString(message.content)
            }
        case .tokens(let ids):
            buffer.writeInteger(UInt8(2))
            buffer.writeWireTokenIDs(ids)
        }
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        let kind: UInt8 = try reader.integer("prompt_kind")
        switch kind {
        case 0: self = .text(try reader.string("prompt_text"))
        case 1:
            let count = try reader.count("chat", minimumElementBytes: 8)
            var messages: [ChatMessage] = []
            messages.reserveCapacity(count)
            for index in 0..<count {
                messages.append(ChatMessage(role: try reader.string("chat[\(index)].role"),
                                            content: try reader.string("chat[\(index)].content")))
            }
            self = .chat(messages)
        case 2: self = .tokens(try reader.tokenIDs("prompt_token_ids"))
        default: throw reader.malformed("prompt_kind", "is \(kind); expected 0 (text), 1 (chat) or 2 (token ids)")
        }
    }
}
