import Foundation


extension Tokenizer {
    /// Loads a tokenizer from an HF folder (`tokenizer.json`, optional `tokenizer_config.json`,
    /// `generation_config.json` for extra EOS ids, `chat_template.jinja`), a `tokenizer.json` file (its
    /// folder's config files are read too) or a `.gguf` file.
    public static func load(path: String) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TokenizationError(file: path, key: "", found: "no such file or folder",
                                    expected: "an HF model folder, a tokenizer.json file or a .gguf file")
        }
        if !isDirectory.boolValue && path.lowercased().hasSuffix(".gguf") {
            return try loadGGUF(path: path)
        }
        let folder = isDirectory.boolValue ? path : (path as NSString).deletingLastPathComponent
        let jsonPath = isDirectory.boolValue ? (path as NSString).appendingPathComponent("tokenizer.json") : path
        let tokenizerJSON = try read(jsonPath, expected: "tokenizer.json in an HF model folder")
        func optional(_ name: String) -> (String, Data)? {
            let file = (folder as NSString).appendingPathComponent(name)
            return FileManager.default.contents(atPath: file).map { (file, $0) }
        }
        let config = optional("tokenizer_config.json")
        var parts = try parseTokenizerJSON(tokenizerJSON, file: jsonPath)
        if let (file, data) = config { try applyConfig(data, file: file, to: &parts) }
        if parts.chatTemplate == nil, let (_, data) = optional("chat_template.jinja") {
            parts.chatTemplate = String(decoding: data, as: UTF8.self)
        }
        if let (file, data) = optional("generation_config.json") {
            parts.extraEOSTokenIDs += try generationEOSIDs(data, file: file)
        }
        return Tokenizer(parts: parts)
    }

    /// A tokenizer from the contents of `tokenizer.json` and optionally `tokenizer_config.json`;
    /// `source` names them in errors.
    public convenience init(tokenizerJSON: Data, tokenizerConfigJSON: Data?, source: String) throws {
        var parts = try Self.parseTokenizerJSON(tokenizerJSON, file: source)
        if let tokenizerConfigJSON {
            try Self.applyConfig(tokenizerConfigJSON, file: "\(source) (tokenizer_config.json)", to: &parts)
        }
        self.init(parts: parts)
    }

    static func read(_ path: String, expected: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenizationError(file: path, key: "", found: "no readable file", expected: expected)
        }
        return data
    }

    static func parseTokenizerJSON(_ data: Data, file: String) throws -> Parts {
        let root = try JSONObject(data: data, file: file)
        let preTokenizer = try root.optionalObject("pre_tokenizer").map(PreTokenizer.init(json:)) ?? PreTokenizer()
        let model = try parseModel(try root.object("model"), byteLevel: preTokenizer.byteLevel)
        let normalizer = try root.optionalObject("normalizer").map(Normalizer.init(json:))
        let tokens = try root.isNull("added_tokens") ? [] : root.objects("added_tokens").map(addedToken)
        return Parts(
            model: model,
            added: AddedVocabulary(usingModelIDs(tokens, model), normalizer: normalizer),
            normalizer: normalizer,
            preTokenizer: preTokenizer,
            postProcessor: try root.optionalObject("post_processor").map(PostProcessor.init(json:)),
            decoder: try root.optionalObject("decoder").map(Decoder.init(json:)))
    }

    /// Ids as HF assigns them when it loads the file (the ids written there are not used): a content
    /// already in the model vocabulary or already added keeps that id; a new one gets the next id after
    /// the model vocabulary and the added tokens so far. Exact duplicates are dropped.
    private static func usingModelIDs(_ tokens: [AddedToken], _ model: BPEModel) -> [AddedToken] {
        var wanted: Set<[UInt8]> = []
        for token in tokens { wanted.insert(Array(token.content.utf8)) }
        var modelIDs: [[UInt8]: Int] = [:]
        for (id, token) in model.tokens.enumerated() {
            guard let token else { continue }
            let bytes = Array(token.utf8)
            if wanted.contains(bytes) && modelIDs[bytes] == nil { modelIDs[bytes] = id }
        }
        let modelSize = model.vocab.count
        var addedIDs: [[UInt8]: Int] = [:]
        var maxAdded: Int?
        var result: [AddedToken] = []
        for var token in tokens where !token.content.isEmpty {
            if result.contains(where: { $0.sameDefinition(as: token) }) { continue }
            let bytes = Array(token.content.utf8)
            token.id = addedIDs[bytes] ?? modelIDs[bytes]
                ?? maxAdded.map { $0 >= modelSize ? $0 + 1 : modelSize } ?? modelSize
            addedIDs[bytes] = token.id
            maxAdded = max(maxAdded ?? token.id, token.id)
            result.append(token)
        }
        return result
    }

    private static func addedToken(_ json: JSONObject) throws -> AddedToken {
        AddedToken(id: try json.int("id"), content: try json.string("content"),
                   special: try json.bool("special", default: false),
                   lstrip: try json.bool("lstrip", default: false), rstrip: try json.bool("rstrip", default: false),
                   normalized: try json.bool("normalized", default: true),
                   singleWord: try json.bool("single_word", default: false))
    }

    private static func parseModel(_ json: JSONObject, byteLevel: Bool) throws -> BPEModel {
        let type = try json.optionalString("type") ?? "BPE"
        guard type == "BPE" else {
            throw json.error("type", found: "\"\(type)\"", expected: "BPE (the only supported model type)")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = try json.optionalString(key), !affix.isEmpty {
                throw json.error(key, found: "\"\(affix)\"", expected: "null or an empty string")
            }
        }
        if let dropout = json.values["dropout"] as? NSNumber, dropout.doubleValue > 0 {
            throw json.error("dropout", found: "\(dropout)", expected: "null (BPE dropout is not supported)")
        }
        let vocabObject = try json.object("vocab")
        // JSONSerialization has already merged canonically equivalent keys (last one wins); HF vocabularies
        // in the supported families do not hold such pairs (byte-level alphabets cannot).
        let vocab = try vocabObject.values.map { token, value -> (token: String, id: Int) in
            guard let id = value as? Int else {
                throw vocabObject.error(token, found: JSONObject.describe(value), expected: "an integer id")
            }
            return (token, id)
        }
        let options = BPEModel.Options(
            byteLevel: byteLevel, unknownToken: try json.optionalString("unk_token"),
            fuseUnknown: try json.bool("fuse_unk", default: false),
            byteFallback: try json.bool("byte_fallback", default: false),
            ignoreMerges: try json.bool("ignore_merges", default: false))
        return try BPEModel(entries: vocab, merges: try parseMerges(json), options: options, file: json.file)
    }

    /// Merges as `"a b"` strings or, in newer files, `["a", "b"]` pairs.
    private static func parseMerges(_ json: JSONObject) throws -> [(String, String)] {
        try json.array("merges").enumerated().map { index, element in
            if let line = element as? String, let space = line.firstIndex(of: " ") {
                return (String(line[..<space]), String(line[line.index(after: space)...]))
            }
            if let pair = element as? [String], pair.count == 2 { return (pair[0], pair[1]) }
            throw json.error("merges[\(index)]", found: JSONObject.describe(element),
                             expected: "\"left right\" or [\"left\", \"right\"]")
        }
    }

    static func applyConfig(_ data: Data, file: String, to parts: inout Parts) throws {
        let config = try JSONObject(data: data, file: file)
        parts.bosToken = try specialTokenString(config, "bos_token")
        parts.eosToken = try specialTokenString(config, "eos_token")
        parts.addBOSToken = try config.bool("add_bos_token", default: false)
        parts.chatTemplate = try chatTemplate(config)
    }

    /// `bos_token`/`eos_token`: a string, or an AddedToken object with `content`.
    private static func specialTokenString(_ config: JSONObject, _ key: String) throws -> String? {
        if config.isNull(key) { return nil }
        if let string = config.values[key] as? String { return string }
        return try config.object(key).string("content")
    }

    private static func chatTemplate(_ config: JSONObject) throws -> String? {
        if config.isNull("chat_template") { return nil }
        if let template = config.values["chat_template"] as? String { return template }
        let named = try config.objects("chat_template")
        for entry in named where try entry.string("name") == "default" { return try entry.string("template") }
        return nil
    }

    /// `eos_token_id` of generation_config.json: an integer or a list of them.
    private static func generationEOSIDs(_ data: Data, file: String) throws -> [Int] {
        let config = try JSONObject(data: data, file: file)
        if config.isNull("eos_token_id") { return [] }
        if let ids = config.values["eos_token_id"] as? [Int] { return ids }
        return [try config.int("eos_token_id")]
    }
}
