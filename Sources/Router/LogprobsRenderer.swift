import Wire

/// The `logprobs` of one choice in OpenAI's two shapes (`Protocols/http-api.md`, "Log-probabilities"):
/// completions' `{tokens, token_logprobs, top_logprobs, text_offset}` and chat's `{content: [{token,
/// logprob, bytes, top_logprobs}]}`. Holds the running text offset, so one renderer serves every chunk
/// of a streamed choice (across a failover too: the API handler outlives the worker).
struct LogprobsRenderer: Sendable {
    let route: APIRequest.Route
    /// Characters (Unicode scalars) of output text before the next token.
    private var textOffset = 0

    init(route: APIRequest.Route) {
        self.route = route
    }

    /// Writes the `logprobs` object of `entries` (the tokens of one chunk, or of the whole choice).
    mutating func write(_ entries: [TokenLogprobs], into writer: inout JSONWriter) {
        writer.beginObject()
        switch route {
        case .completion: writeCompletion(entries, into: &writer)
        case .chat: writeChat(entries, into: &writer)
        }
        writer.endObject()
    }

    private mutating func writeCompletion(_ entries: [TokenLogprobs], into writer: inout JSONWriter) {
        writer.key("tokens")
        writer.beginArray()
        for entry in entries { writer.string(Self.token(entry.bytes)) }
        writer.endArray()
        writer.key("token_logprobs")
        writer.beginArray()
        for entry in entries { writer.number(entry.logprob) }
        writer.endArray()
        // OpenAI: "the API will always return the logprob of the sampled token, so there may be up to
        // logprobs+1 elements": the top N, then the chosen token when it is not among them.
        writer.key("top_logprobs")
        writer.beginArray()
        for entry in entries {
            writer.beginObject()
            var written: Set<String> = []
            for alternative in entry.top {
                let token = Self.token(alternative.bytes)
                guard written.insert(token).inserted else { continue }  // two ids, one string: the likelier
                writer.field(token, alternative.logprob)
            }
            let chosen = Self.token(entry.bytes)
            if !written.contains(chosen) { writer.field(chosen, entry.logprob) }
            writer.endObject()
        }
        writer.endArray()
        writer.key("text_offset")
        writer.beginArray()
        for entry in entries { writer.integer(nextOffset(entry.bytes)) }
        writer.endArray()
    }

    private func writeChat(_ entries: [TokenLogprobs], into writer: inout JSONWriter) {
        writer.key("content")
        writer.beginArray()
        for entry in entries {
            writer.beginObject()
            Self.writeToken(entry.bytes, logprob: entry.logprob, into: &writer)
            writer.key("top_logprobs")
            writer.beginArray()
            for alternative in entry.top {
                writer.beginObject()
                Self.writeToken(alternative.bytes, logprob: alternative.logprob, into: &writer)
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
    }

    private static func writeToken(_ bytes: [UInt8], logprob: Float, into writer: inout JSONWriter) {
        writer.field("token", token(bytes))
        writer.field("logprob", logprob)
        writer.key("bytes")
        writer.beginArray()
        for byte in bytes { writer.integer(byte) }
        writer.endArray()
    }

    /// The offset of a token with these bytes, advancing past it: the index of the character its first
    /// byte belongs to (a token that continues a character split across tokens points at that character).
    private mutating func nextOffset(_ bytes: [UInt8]) -> Int {
        let continues = bytes.first.map(Self.isContinuation) ?? false
        let offset = continues ? max(textOffset - 1, 0) : textOffset
        textOffset += bytes.reduce(0) { $0 + (Self.isContinuation($1) ? 0 : 1) }
        return offset
    }

    private static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }

    /// A token's text: its bytes as UTF-8, with each byte that is not part of a valid character (a
    /// byte-level token holding part of one) written as `\xNN`, as OpenAI does; `bytes` has the exact bytes.
    static func token(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var text = ""
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var position = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                text.unicodeScalars.append(Unicode.UTF8.decode(encoded))
                position += encoded.count
            case .error(let length):
                for byte in bytes[position..<(position + length)] {
                    text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
                }
                position += length
            case .emptyInput:
                return text
            }
        }
    }
}
