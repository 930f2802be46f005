import NIOCore

// Field order and widths are normative: Protocols/wire.md, "Messages". Every reader ends with
// `reader.finish()` (in `WireMessage.init(type:payload:)`), so trailing bytes are an error.

// MARK: - Handshake

extension Hello {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeBytes(Hello.magic)
        buffer.writeInteger(minVersion)
        buffer.writeInteger(maxVersion)
        buffer.writeBytes(challenge)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        try readMagic(&reader)
        minVersion = try reader.integer("min_version")
        maxVersion = try reader.integer("max_version")
        guard minVersion <= maxVersion else { throw reader.malformed("min_version", "\(minVersion) is above max_version \(maxVersion)") }
        challenge = try reader.bytes("challenge", count: Hello.challengeBytes)
    }
}

extension Authenticate {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeBytes(Hello.magic)
        buffer.writeInteger(version)
        buffer.writeBytes(challenge)
        buffer.writeBytes(proof)
        buffer.writeWireString(workerName)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        try readMagic(&reader)
        version = try reader.integer("version")
        challenge = try reader.bytes("challenge", count: Hello.challengeBytes)
        proof = try reader.bytes("proof", count: Hello.challengeBytes)
        workerName = try reader.string("worker_name")
        guard (1...128).contains(workerName.utf8.count) else {
            throw reader.malformed("worker_name", "is \(workerName.utf8.count) bytes; expected 1-128")
        }
    }
}

private func readMagic(_ reader: inout PayloadReader) throws(WireError) {
    let magic = try reader.bytes("magic", count: 4)
    guard magic == Hello.magic else {
        throw WireError(.badMagic, "\(reader.message).magic is \(magic.map { "0x\(hex($0))" }.joined(separator: " ")); expected \"SPCW\" (0x53 0x50 0x43 0x57): the peer does not speak the Specula wire protocol")
    }
}

extension Welcome {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeBytes(proof)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        proof = try reader.bytes("proof", count: Hello.challengeBytes)
    }
}

// MARK: - Registration and flow control

extension Register {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireString(modelID)
        buffer.writeMultipleIntegers(contextLength, maxBatchSequences, kvCapacityTokens, maxPromptTokens, maxOutputTokens)
        buffer.writeWireBool(supportsSpeculation)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        modelID = try reader.string("model_id")
        contextLength = try reader.integer("context_length")
        maxBatchSequences = try reader.integer("max_batch_sequences")
        kvCapacityTokens = try reader.integer("kv_capacity_tokens")
        maxPromptTokens = try reader.integer("max_prompt_tokens")
        maxOutputTokens = try reader.integer("max_output_tokens")
        supportsSpeculation = try reader.bool("supports_speculation")
    }
}

extension Registration {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireBool(accepted)
        buffer.writeWireString(reason)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        accepted = try reader.bool("accepted")
        reason = try reader.string("reason")
    }
}

extension Credits {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(count)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        count = try reader.integer("count")
    }
}

extension Heartbeat {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(sequence)
        buffer.writeWireBool(isReply)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        sequence = try reader.integer("sequence")
        isReply = try reader.bool("is_reply")
    }
}

extension Drain {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeWireString(reason)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        reason = try reader.string("reason")
    }
}

extension ErrorMessage {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(code.rawValue)
        buffer.writeWireBool(requestID != nil)
        if let requestID { buffer.writeInteger(requestID) }
        buffer.writeWireString(message)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        code = WireError.Code(rawValue: try reader.integer("code"))
        requestID = try reader.bool("has_request_id") ? try reader.integer("request_id") : nil
        message = try reader.string("message")
    }
}

// MARK: - Requests

extension Cancel {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(requestID)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        requestID = try reader.integer("request_id")
    }
}

extension TokenEvent {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(requestID)
        buffer.writeWireTokenIDs(tokenIDs)
        buffer.writeWireString(text)
        guard let logprobs else { return }
        buffer.writeInteger(UInt32(logprobs.count))
        for entry in logprobs {
            buffer.writeWireFloat(entry.logprob)
            buffer.writeWireBytes(entry.bytes)
            buffer.writeInteger(UInt8(entry.top.count))
            for alternative in entry.top {
                buffer.writeInteger(alternative.tokenID)
                buffer.writeWireFloat(alternative.logprob)
                buffer.writeWireBytes(alternative.bytes)
            }
        }
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        requestID = try reader.integer("request_id")
        tokenIDs = try reader.tokenIDs("token_ids")
        text = try reader.string("text")
        logprobs = reader.hasMore ? try Self.logprobs(from: &reader, tokens: tokenIDs.count) : nil
    }

    /// The optional section: `count: u32` (= the number of token ids), then per token `logprob: f32`,
    /// `bytes`, `alternatives: u8` (≤ 20) and that many (`token_id: u32`, `logprob: f32`, `bytes`).
    private static func logprobs(from reader: inout PayloadReader, tokens: Int) throws(WireError) -> [TokenLogprobs] {
        let count = try reader.count("logprobs", minimumElementBytes: 9)
        guard count == tokens else {
            throw reader.malformed("logprobs", "has \(count) entries for \(tokens) token ids; expected one per token id")
        }
        var entries: [TokenLogprobs] = []
        entries.reserveCapacity(count)
        for index in 0..<count {
            let field = "logprobs[\(index)]"
            var entry = TokenLogprobs(logprob: try reader.logprob(field), bytes: try reader.byteString("\(field).bytes"))
            let alternatives: UInt8 = try reader.integer("\(field).alternatives")
            guard alternatives <= TokenLogprobs.maxAlternatives else {
                throw reader.malformed("\(field).alternatives", "is \(alternatives); expected at most \(TokenLogprobs.maxAlternatives)")
            }
            for rank in 0..<Int(alternatives) {
                let name = "\(field).top[\(rank)]"
                entry.top.append(LogprobAlternative(tokenID: try reader.integer("\(name).token_id"), logprob: try reader.logprob(name),
                                                    bytes: try reader.byteString("\(name).bytes")))
            }
            entries.append(entry)
        }
        return entries
    }
}

extension Finish {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(requestID)
        buffer.writeInteger(reason.rawValue)
        buffer.writeMultipleIntegers(promptTokens, completionTokens)
        buffer.writeMultipleIntegers(speculation.drafts, speculation.draftTokens, speculation.acceptedTokens, speculation.steps)
        buffer.writeWireTokenIDs(speculation.acceptedPerPosition)
        buffer.writeWireString(errorMessage)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        requestID = try reader.integer("request_id")
        let rawReason: UInt8 = try reader.integer("reason")
        guard let reason = Reason(rawValue: rawReason) else {
            throw reader.malformed("reason", "is \(rawReason); expected 0 (stop), 1 (length), 2 (cancelled) or 3 (error)")
        }
        self.reason = reason
        promptTokens = try reader.integer("prompt_tokens")
        completionTokens = try reader.integer("completion_tokens")
        speculation = SpeculationCounts(
            drafts: try reader.integer("drafts"), draftTokens: try reader.integer("draft_tokens"),
            acceptedTokens: try reader.integer("accepted_tokens"), steps: try reader.integer("steps"),
            acceptedPerPosition: try reader.tokenIDs("accepted_per_position"))
        errorMessage = try reader.string("error_message")
    }
}

// MARK: - Tokenization

extension TokenizeRequest {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(requestID)
        buffer.writeWireBool(addSpecialTokens)
        buffer.writeWireBool(addGenerationPrompt)
        prompt.encode(into: &buffer)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        requestID = try reader.integer("request_id")
        addSpecialTokens = try reader.bool("add_special_tokens")
        addGenerationPrompt = try reader.bool("add_generation_prompt")
        prompt = try Prompt(from: &reader)
    }
}

extension DetokenizeRequest {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(requestID)
        buffer.writeWireBool(skipSpecialTokens)
        buffer.writeWireTokenIDs(tokenIDs)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        requestID = try reader.integer("request_id")
        skipSpecialTokens = try reader.bool("skip_special_tokens")
        tokenIDs = try reader.tokenIDs("token_ids")
    }
}

extension TokenizationResult {
    func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(requestID)
        buffer.writeWireTokenIDs(tokenIDs)
        buffer.writeWireString(text)
        buffer.writeWireString(errorMessage)
    }

    init(from reader: inout PayloadReader) throws(WireError) {
        requestID = try reader.integer("request_id")
        tokenIDs = try reader.tokenIDs("token_ids")
        text = try reader.string("text")
        errorMessage = try reader.string("error_message")
    }
}
