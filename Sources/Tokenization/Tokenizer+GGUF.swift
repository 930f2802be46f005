import ModelFormat

extension Tokenizer {
    /// A tokenizer from GGUF metadata (`tokenizer.ggml.*`), built to encode like the `tokenizer.json` the
    /// file was converted from. Supports `tokenizer.ggml.model` "gpt2" (byte-level BPE) with
    /// `tokenizer.ggml.pre` "gpt-2", "llama-bpe"/"llama3" or "qwen2", and "llama" (SentencePiece: merges
    /// rebuilt from the scores as transformers' GGUF loader does, byte fallback, Llama-2 normalizer and
    /// decoder). CONTROL and UNKNOWN tokens become special added tokens, USER_DEFINED ones plain added
    /// tokens; `add_bos_token`/`add_eos_token` decide what `encode(addSpecialTokens: true)` adds, as in
    /// llama.cpp.
    public convenience init(ggufMetadata metadata: [String: GGUFValue], source: String) throws {
        self.init(parts: try GGUFVocabulary(metadata: metadata, file: source).parts())
    }

    static func loadGGUF(path: String) throws -> Tokenizer {
        let checkpoint: ModelCheckpoint
        do {
            checkpoint = try ModelCheckpoint.load(path: path)
        } catch {
            throw TokenizationError(file: path, key: "", found: "an unreadable GGUF file (\(error))",
                                    expected: "a GGUF model file")
        }
        return try Tokenizer(ggufMetadata: checkpoint.ggufMetadata, source: path)
    }
}

/// Reads the `tokenizer.ggml.*` keys into tokenizer parts.
struct GGUFVocabulary {
    let metadata: [String: GGUFValue]
    let file: String

    enum TokenType: Int {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    func error(_ key: String, found: String, expected: String) -> TokenizationError {
        TokenizationError(file: file, key: key, found: found, expected: expected)
    }

    func describe(_ key: String) -> String {
        guard let value = metadata[key] else { return "nothing" }
        if let string = value.string { return "\"\(string.prefix(60))\"" }
        if let array = value.array { return "an array of \(array.count)" }
        return "\(value)"
    }

    func parts() throws -> Tokenizer.Parts {
        let modelKey = "tokenizer.ggml.model"
        guard let model = metadata[modelKey]?.string else {
            throw error(modelKey, found: describe(modelKey), expected: "a tokenizer model name string")
        }
        switch model {
        case "gpt2": return try byteLevelParts()
        case "llama": return try sentencePieceParts()
        default:
            throw error(modelKey, found: "\"\(model)\"", expected: "\"gpt2\" (byte-level BPE) or \"llama\" (SentencePiece)")
        }
    }

    private func byteLevelParts() throws -> Tokenizer.Parts {
        let tokens = try stringArray("tokenizer.ggml.tokens")
        let types = try tokenTypes(count: tokens.count)
        let (pattern, normalizer, ignoreMerges) = try preTokenization()
        let entries = tokens.enumerated().map { (token: $0.element, id: $0.offset) }
        let merges = try stringArray("tokenizer.ggml.merges").enumerated().map { index, line in
            guard let space = line.firstIndex(of: " ") else {
                throw error("tokenizer.ggml.merges[\(index)]", found: "\"\(line)\"", expected: "\"left right\"")
            }
            return (String(line[..<space]), String(line[line.index(after: space)...]))
        }
        let bpe = try BPEModel(entries: entries, merges: merges,
                               options: .init(byteLevel: true, ignoreMerges: ignoreMerges), file: file)
        var parts = try commonParts(model: bpe, tokens: tokens, types: types, addBOSDefault: false)
        parts.normalizer = normalizer
        parts.preTokenizer = PreTokenizer(byteLevelWith: pattern)
        parts.decoder = .byteLevel
        return parts
    }

    /// Added tokens (CONTROL and UNKNOWN special, USER_DEFINED plain), BOS/EOS, the BOS/EOS template and
    /// the chat template; the caller fills in normalizer, pre-tokenizer and decoder.
    func commonParts(model: BPEModel, tokens: [String], types: [Int], addBOSDefault: Bool) throws -> Tokenizer.Parts {
        let added = tokens.indices.compactMap { id -> AddedToken? in
            switch TokenType(rawValue: types[id]) {
            case .control, .unknown: AddedToken(id: id, content: tokens[id], special: true)
            case .userDefined: AddedToken(id: id, content: tokens[id], special: false)
            default: nil
            }
        }
        let bos = try tokenID("tokenizer.ggml.bos_token_id", count: tokens.count)
        let eos = try tokenID("tokenizer.ggml.eos_token_id", count: tokens.count)
        let addBOS = try flag("tokenizer.ggml.add_bos_token") ?? addBOSDefault
        let addEOS = try flag("tokenizer.ggml.add_eos_token") ?? false
        var template: [[Int]?] = [nil]
        if addBOS, let bos { template.insert([bos], at: 0) }
        if addEOS, let eos { template.append([eos]) }
        var extraEOS: [Int] = []
        for key in ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = try tokenID(key, count: tokens.count) { extraEOS.append(id) }
        }
        return Tokenizer.Parts(
            model: model, added: AddedVocabulary(added), normalizer: nil, preTokenizer: PreTokenizer(),
            postProcessor: .template(template), decoder: nil,
            bosToken: bos.map { tokens[$0] }, eosToken: eos.map { tokens[$0] },
            extraEOSTokenIDs: extraEOS, chatTemplate: metadata["tokenizer.chat_template"]?.string,
            addBOSToken: addBOS)
    }

    /// The split regex (and normalizer, ignore_merges) of the HF tokenizer llama.cpp's pre-type stands for.
    private func preTokenization() throws -> (SplitPattern, Normalizer?, Bool) {
        let key = "tokenizer.ggml.pre"
        switch metadata[key]?.string {
        case "gpt-2": return (.gpt2, nil, false)
        case "llama-bpe", "llama3": return (.llama3, nil, true)
        case "qwen2": return (.qwen2, .nfc, false)
        default:
            throw error(key, found: describe(key), expected: "\"gpt-2\", \"llama-bpe\" or \"qwen2\"")
        }
    }

    func stringArray(_ key: String) throws -> [String] {
        guard let strings = metadata[key]?.stringArray else {
            throw error(key, found: describe(key), expected: "an array of strings")
        }
        return strings
    }

    func tokenTypes(count: Int) throws -> [Int] {
        let key = "tokenizer.ggml.token_type"
        guard metadata[key] != nil else { return [Int](repeating: TokenType.normal.rawValue, count: count) }
        guard let types = metadata[key]?.intArray, types.count == count else {
            throw error(key, found: describe(key), expected: "an array of \(count) integers (one per token)")
        }
        return types
    }

    func tokenID(_ key: String, count: Int) throws -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let id = value.int, id >= 0, id < count else {
            throw error(key, found: describe(key), expected: "a token id below \(count)")
        }
        return id
    }

    func flag(_ key: String) throws -> Bool? {
        guard let value = metadata[key] else { return nil }
        guard let flag = value.bool else { throw error(key, found: describe(key), expected: "a bool") }
        return flag
    }
}
