/// A Hugging Face-compatible BPE tokenizer (byte-level GPT-2 / Llama-3 / Qwen2 style and
/// SentencePiece-BPE with byte fallback), loaded from `tokenizer.json` or a GGUF vocabulary.
/// `encode` and `decode` give exactly the ids and text of HF `tokenizers` for the same file.
public final class Tokenizer: Sendable {
    /// Everything a tokenizer is made of, gathered by the loaders.
    struct Parts {
        var model: BPEModel
        var added: AddedVocabulary
        var normalizer: Normalizer?
        var preTokenizer: PreTokenizer
        var postProcessor: PostProcessor?
        var decoder: Decoder?
        var bosToken: String?
        var eosToken: String?
        var extraEOSTokenIDs: [Int] = []
        var chatTemplate: String?
        var addBOSToken = false
    }

    let model: BPEModel
    let added: AddedVocabulary
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer
    let postProcessor: PostProcessor?
    let decoder: Decoder?
    /// id → token string, model vocabulary and added tokens together
    private let idToToken: [String?]
    private let specialFlags: [Bool]
    private let tokenBytesTable: [[UInt8]]
    private let addBOSToken: Bool

    /// Vocabulary size including added tokens: one more than the largest id.
    public var vocabularySize: Int { idToToken.count }
    public let bosTokenID: Int?
    public let eosTokenIDs: Set<Int>
    /// The BOS token's string (for chat templates), from tokenizer_config.json or GGUF.
    public let bosToken: String?
    /// The EOS token's string (for chat templates), from tokenizer_config.json or GGUF.
    public let eosToken: String?
    /// tokenizer_config.json `chat_template` (a string, or the "default" entry of a list), or GGUF
    /// `tokenizer.chat_template`.
    public let chatTemplate: String?

    init(parts: Parts) {
        model = parts.model
        added = parts.added
        normalizer = parts.normalizer
        preTokenizer = parts.preTokenizer
        postProcessor = parts.postProcessor
        decoder = parts.decoder
        var tokens = parts.model.tokens
        let maxAdded = parts.added.tokens.map(\.id).max() ?? -1
        if maxAdded >= tokens.count { tokens += [String?](repeating: nil, count: maxAdded + 1 - tokens.count) }
        var special = [Bool](repeating: false, count: tokens.count)
        var tokenIDs: [String: Int] = [:]
        for token in parts.added.tokens {
            tokens[token.id] = token.content
            special[token.id] = token.special
            tokenIDs[token.content] = token.id
        }
        idToToken = tokens
        specialFlags = special
        let decoder = parts.decoder
        tokenBytesTable = tokens.map { token in
            guard let token else { return [] }
            return decoder?.tokenBytes(token) ?? Array(token.utf8)
        }
        func id(of token: String?) -> Int? { token.flatMap { tokenIDs[$0] ?? parts.model.vocab[$0] } }
        bosToken = parts.bosToken
        eosToken = parts.eosToken
        bosTokenID = id(of: parts.bosToken)
        eosTokenIDs = Set([id(of: parts.eosToken)].compactMap { $0 } + parts.extraEOSTokenIDs)
        chatTemplate = parts.chatTemplate
        addBOSToken = parts.addBOSToken
    }

    /// The ids of `text`, as HF `encode(text, add_special_tokens:)`: added-token strings inside the text
    /// always become their ids; `addSpecialTokens` applies the post-processor (BOS etc.).
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var text = text
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3)
        text.withUTF8 { bytes in
            let pieces = added.isEmpty ? [.text(0..<bytes.count)] : added.split(bytes, 0..<bytes.count, normalized: false)
            for piece in pieces {
                switch piece {
                case .token(let id): ids.append(id)
                case .text(let range): encodePlain(bytes, range, into: &ids)
                }
            }
        }
        if addSpecialTokens, let postProcessor { ids = postProcessor.process(ids) }
        return ids
    }

    private func encodePlain(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into ids: inout [Int]) {
        guard normalizer != nil || preTokenizer.addPrefixSpace || added.hasNormalizedTokens else {
            encodePreTokens(bytes, range, atStart: range.lowerBound == 0, into: &ids)
            return
        }
        var text = Array(UnsafeBufferPointer(rebasing: bytes[range]))
        if let normalizer { text = normalizer.apply(text) }
        if preTokenizer.addPrefixSpace && text.first != UInt8(ascii: " ") { text.insert(UInt8(ascii: " "), at: 0) }
        text.withUnsafeBufferPointer { normalized in
            let whole = 0..<normalized.count
            guard added.hasNormalizedTokens else {
                encodePreTokens(normalized, whole, atStart: range.lowerBound == 0, into: &ids)
                return
            }
            for piece in added.split(normalized, whole, normalized: true) {
                switch piece {
                case .token(let id): ids.append(id)
                case .text(let sub):
                    encodePreTokens(normalized, sub, atStart: range.lowerBound == 0 && sub.lowerBound == 0, into: &ids)
                }
            }
        }
    }

    /// `atStart`: the piece begins the input (Metaspace's `first` prepend scheme).
    private func encodePreTokens(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, atStart: Bool,
                                 into ids: inout [Int]) {
        guard let metaspace = preTokenizer.metaspace else {
            preTokenizer.forEachPiece(bytes, range) { piece in model.encodeWord(bytes, piece, into: &ids) }
            return
        }
        let replaced = metaspace.apply(UnsafeBufferPointer(rebasing: bytes[range]), atStart: atStart)
        replaced.withUnsafeBufferPointer { text in
            preTokenizer.forEachPiece(text, 0..<text.count) { piece in model.encodeWord(text, piece, into: &ids) }
        }
    }

    /// The text of `ids`, as HF `decode(ids, skip_special_tokens:)`. Unknown ids are left out.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids where id >= 0 && id < idToToken.count {
            guard let token = idToToken[id] else { continue }
            if skipSpecialTokens && specialFlags[id] { continue }
            tokens.append(token)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens)
    }

    /// Prompt ids the way generation starts: `encode(addSpecialTokens: true)`, then BOS in front when the
    /// config asks for it (`add_bos_token`, GGUF `tokenizer.ggml.add_bos_token`) and the post-processor
    /// did not already put it there.
    public func promptIDs(_ text: String) -> [Int] {
        let ids = encode(text, addSpecialTokens: true)
        guard addBOSToken, let bosTokenID, !(postProcessor?.prefixIDs.contains(bosTokenID) ?? false) else {
            return ids
        }
        return [bosTokenID] + ids
    }

    /// The vocabulary string of `id` (model vocabulary or added token), nil for an unknown id.
    public func tokenString(_ id: Int) -> String? {
        id >= 0 && id < idToToken.count ? idToToken[id] : nil
    }

    /// True for added tokens flagged special (skipped by `decode(skipSpecialTokens: true)`).
    public func isSpecial(_ id: Int) -> Bool {
        id >= 0 && id < specialFlags.count && specialFlags[id]
    }

    /// Raw bytes a token contributes when decoded (byte-level: the unmapped bytes; SentencePiece: `▁`
    /// as a space, `<0xNN>` as its byte; added tokens: their UTF-8), for the streaming detokenizer and
    /// n-gram drafter. Empty for an unknown id. Cross-token decoder steps (SentencePiece's leading-space
    /// strip, invalid-UTF-8 repair) are not applied.
    public func tokenBytes(_ id: Int) -> [UInt8] {
        id >= 0 && id < tokenBytesTable.count ? tokenBytesTable[id] : []
    }

    /// True when `id` is a `<0xNN>` token the decoder joins with its neighbours before it becomes text.
    func isByteFallbackToken(_ id: Int) -> Bool {
        guard decoder?.hasByteFallback == true, let token = tokenString(id) else { return false }
        return Decoder.fallbackByte(token) != nil
    }
}
