/// HF `pre_tokenizer`, flattened: the split steps in order, then whether the ByteLevel step maps bytes to
/// the GPT-2 alphabet (which the BPE model then sees as its units).
struct PreTokenizer: Sendable {
    struct Split: Sendable {
        let pattern: SplitPattern
        let dropMatches: Bool
    }

    /// HF Metaspace: spaces become the replacement character, which is also put in front of the text
    /// (`always`, or `first`: only for text at the very start of the input) unless already there.
    struct Metaspace: Sendable {
        enum Prepend: Sendable { case always, first, never }
        let replacement: [UInt8]
        let prepend: Prepend

        /// `bytes` of a piece that starts the input when `atStart`.
        func apply(_ bytes: UnsafeBufferPointer<UInt8>, atStart: Bool) -> [UInt8] {
            var out = Normalizer.replace(Array(bytes), Array(" ".utf8), replacement)
            let wanted = prepend == .always || (prepend == .first && atStart)
            if wanted && !out.starts(with: replacement) { out.insert(contentsOf: replacement, at: 0) }
            return out
        }
    }

    private(set) var splits: [Split] = []
    private(set) var byteLevel = false
    private(set) var addPrefixSpace = false
    private(set) var metaspace: Metaspace?

    init() {}

    init(json: JSONObject) throws {
        try add(json)
    }

    private mutating func add(_ json: JSONObject) throws {
        let type = try json.string("type")
        if metaspace != nil || (type == "Metaspace" && (byteLevel || !splits.isEmpty)) {
            throw json.error("type", found: "\"\(type)\" combined with another pre-tokenizer",
                             expected: "Metaspace as the only pre-tokenizer")
        }
        if byteLevel && type != "Sequence" {
            throw json.error("type", found: "\"\(type)\" after ByteLevel",
                             expected: "ByteLevel as the last pre-tokenizer")
        }
        switch type {
        case "Sequence":
            for step in try json.objects("pretokenizers") { try add(step) }
        case "ByteLevel":
            addPrefixSpace = try json.bool("add_prefix_space", default: true)
            if addPrefixSpace && !splits.isEmpty {
                throw json.error("add_prefix_space", found: "true after a Split",
                                 expected: "false (a prefix space per split piece is not supported)")
            }
            if try json.bool("use_regex", default: true) {
                splits.append(Split(pattern: .gpt2, dropMatches: false))
            }
            byteLevel = true
        case "Split":
            splits.append(try Self.split(json))
        case "Metaspace":
            try addMetaspace(json)
        default:
            throw json.error("type", found: "\"\(type)\"",
                             expected: "a supported pre-tokenizer (ByteLevel, Split, Metaspace, Sequence)")
        }
    }

    private mutating func addMetaspace(_ json: JSONObject) throws {
        let replacement = try json.string("replacement")
        guard replacement.unicodeScalars.count == 1 else {
            throw json.error("replacement", found: "\"\(replacement)\"", expected: "one character")
        }
        let prepend: Metaspace.Prepend
        switch try json.optionalString("prepend_scheme") {
        case "always": prepend = .always
        case "first": prepend = .first
        case "never": prepend = .never
        case nil: prepend = try json.bool("add_prefix_space", default: true) ? .always : .never
        case let other?:
            throw json.error("prepend_scheme", found: "\"\(other)\"", expected: "always, first or never")
        }
        metaspace = Metaspace(replacement: Array(replacement.utf8), prepend: prepend)
        if try json.bool("split", default: true) {
            splits.append(Split(pattern: .mergedWithNext(Array(replacement.utf8)), dropMatches: false))
        }
    }

    private static func split(_ json: JSONObject) throws -> Split {
        let pattern = try json.object("pattern")
        let splitPattern: SplitPattern
        if let regex = pattern.values["Regex"] as? String {
            guard let known = SplitPattern(regex: regex) else {
                throw pattern.error("Regex", found: "\"\(regex)\"",
                                    expected: "the GPT-2, Llama-3 or Qwen2 split regex")
            }
            splitPattern = known
        } else if let literal = pattern.values["String"] as? String {
            splitPattern = .literal(Array(literal.utf8))
        } else {
            throw json.error("pattern", found: "an object without Regex or String", expected: "{\"Regex\": ...} or {\"String\": ...}")
        }
        if try json.bool("invert", default: false) {
            throw json.error("invert", found: "true", expected: "false")
        }
        let behavior = try json.string("behavior")
        switch behavior {
        case "Isolated": return Split(pattern: splitPattern, dropMatches: false)
        case "Removed": return Split(pattern: splitPattern, dropMatches: true)
        default:
            throw json.error("behavior", found: "\"\(behavior)\"", expected: "Isolated or Removed")
        }
    }

    /// For GGUF vocabularies: byte-level with one split regex.
    init(byteLevelWith pattern: SplitPattern) {
        splits = [Split(pattern: pattern, dropMatches: false)]
        byteLevel = true
    }

    /// Calls `body` with the byte range of every pre-token of `range`.
    func forEachPiece(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, level: Int = 0,
                      _ body: (Range<Int>) -> Void) {
        if level == splits.count {
            body(range)
            return
        }
        splits[level].pattern.split(bytes, range, dropMatches: splits[level].dropMatches) { piece in
            forEachPiece(bytes, piece, level: level + 1, body)
        }
    }
}
