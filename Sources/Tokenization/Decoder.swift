/// HF `decoder`: turns the token strings of the ids back into text, step by step over the token list
/// (`decode_chain`), then joins what is left.
indirect enum Decoder: Sendable {
    case byteLevel
    case replace(pattern: String, content: String)
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    /// Metaspace: the replacement becomes a space, except in the first token when a prefix was added.
    case metaspace(replacement: Unicode.Scalar, stripFirst: Bool)
    case sequence([Decoder])

    init(json: JSONObject) throws {
        let type = try json.string("type")
        switch type {
        case "ByteLevel": self = .byteLevel
        case "ByteFallback": self = .byteFallback
        case "Fuse": self = .fuse
        case "Replace":
            let pattern = try json.object("pattern")
            guard let literal = pattern.values["String"] as? String, !literal.isEmpty else {
                throw json.error("pattern", found: "a non-literal pattern", expected: "{\"String\": ...}")
            }
            self = .replace(pattern: literal, content: try json.string("content"))
        case "Strip":
            let content = try json.string("content")
            guard content.unicodeScalars.count == 1, let scalar = content.unicodeScalars.first else {
                throw json.error("content", found: "\"\(content)\"", expected: "one character")
            }
            self = .strip(content: scalar, start: try json.int("start"), stop: try json.int("stop"))
        case "Sequence":
            self = .sequence(try json.objects("decoders").map(Decoder.init(json:)))
        case "Metaspace":
            let replacement = try json.string("replacement")
            guard replacement.unicodeScalars.count == 1, let scalar = replacement.unicodeScalars.first else {
                throw json.error("replacement", found: "\"\(replacement)\"", expected: "one character")
            }
            let scheme = try json.optionalString("prepend_scheme")
            let legacyPrefix = try json.bool("add_prefix_space", default: true)
            let stripFirst = scheme.map { $0 != "never" } ?? legacyPrefix
            self = .metaspace(replacement: scalar, stripFirst: stripFirst)
        default:
            throw json.error("type", found: "\"\(type)\"",
                             expected: "a supported decoder (ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace, Sequence)")
        }
    }

    func decode(_ tokens: [String]) -> String {
        decodeChain(tokens).joined()
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens { bytes.append(contentsOf: ByteLevelAlphabet.decode(token) ?? Array(token.utf8)) }
            return [String(decoding: bytes, as: UTF8.self)]
        case .replace(let pattern, let content):
            return tokens.map { Self.replace($0, pattern, content) }
        case .byteFallback:
            return Self.byteFallback(tokens)
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { Self.strip($0, content, start, stop) }
        case .sequence(let steps):
            return steps.reduce(tokens) { $1.decodeChain($0) }
        case .metaspace(let replacement, let stripFirst):
            // HF drops every replacement character of the first token, not only a leading one.
            return tokens.enumerated().map { index, token in
                var scalars = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar != replacement { scalars.append(scalar) } else if index > 0 || !stripFirst { scalars.append(" ") }
                }
                return String(scalars)
            }
        }
    }

    /// Replaces every occurrence of `pattern` byte for byte (not by grapheme: "▁" followed by a combining
    /// mark is still replaced, as in HF).
    private static func replace(_ token: String, _ pattern: String, _ content: String) -> String {
        let bytes = Array(token.utf8), needle = Array(pattern.utf8)
        guard let first = needle.first, bytes.count >= needle.count else { return token }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == first && i + needle.count <= bytes.count && bytes[i..<i + needle.count].elementsEqual(needle) {
                out.append(contentsOf: content.utf8)
                i += needle.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The byte of a `<0xNN>` token.
    static func fallbackByte(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8[0] == UInt8(ascii: "<"), utf8[1] == UInt8(ascii: "0"), utf8[2] == UInt8(ascii: "x"),
              utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }

    /// Runs of byte tokens become their text when valid UTF-8, else one U+FFFD per byte (HF's rule).
    private static func byteFallback(_ tokens: [String]) -> [String] {
        var result: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let text = String(validating: pending, as: UTF8.self) {
                result.append(text)
            } else {
                result.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
            }
            pending.removeAll()
        }
        for token in tokens {
            if let byte = fallbackByte(token) {
                pending.append(byte)
            } else {
                flush()
                result.append(token)
            }
        }
        flush()
        return result
    }

    private static func strip(_ token: String, _ content: Unicode.Scalar, _ start: Int, _ stop: Int) -> String {
        let scalars = Array(token.unicodeScalars)
        var lower = 0
        while lower < min(start, scalars.count) && scalars[lower] == content { lower += 1 }
        var upper = scalars.count
        while scalars.count - upper < stop && upper > lower && scalars[upper - 1] == content { upper -= 1 }
        return String(String.UnicodeScalarView(scalars[lower..<upper]))
    }

    /// The bytes one token adds to decoded text, from the per-token steps of the chain (byte-level
    /// unmapping, replacements, `<0xNN>` bytes); fusing and stripping act across tokens and are left out.
    func tokenBytes(_ token: String) -> [UInt8] {
        switch self {
        case .byteLevel: return ByteLevelAlphabet.decode(token) ?? Array(token.utf8)
        case .replace(let pattern, let content): return Array(Self.replace(token, pattern, content).utf8)
        case .byteFallback: return Self.fallbackByte(token).map { [$0] } ?? Array(token.utf8)
        case .fuse, .strip: return Array(token.utf8)
        case .metaspace(let replacement, _):
            return Array(Self.replace(token, String(Character(replacement)), " ").utf8)
        case .sequence(let steps):
            var text = token
            for step in steps {
                switch step {
                case .byteLevel, .byteFallback:
                    let bytes = step.tokenBytes(text)
                    if let valid = String(validating: bytes, as: UTF8.self) { text = valid } else { return bytes }
                default:
                    text = String(decoding: step.tokenBytes(text), as: UTF8.self)
                }
            }
            return Array(text.utf8)
        }
    }

    /// True when the chain groups `<0xNN>` tokens, whose text is only known once the run ends.
    var hasByteFallback: Bool {
        switch self {
        case .byteFallback: true
        case .sequence(let steps): steps.contains { $0.hasByteFallback }
        default: false
        }
    }
}
