import ModelFormat

extension GGUFVocabulary {
    /// `tokenizer.ggml.model` "llama": a SentencePiece vocabulary with scores, run as HF runs Llama-2's
    /// tokenizer.json — Prepend("▁") + Replace(" ", "▁"), BPE with byte fallback and fused unknowns,
    /// decoder Replace("▁", " "), ByteFallback, Fuse, Strip(1 leading space).
    func sentencePieceParts() throws -> Tokenizer.Parts {
        let tokens = try stringArray("tokenizer.ggml.tokens")
        let types = try tokenTypes(count: tokens.count)
        let scoresKey = "tokenizer.ggml.scores"
        guard let scores = metadata[scoresKey]?.floatArray, scores.count == tokens.count else {
            throw error(scoresKey, found: describe(scoresKey), expected: "an array of \(tokens.count) numbers (one per token)")
        }
        let entries = tokens.enumerated().map { (token: $0.element, id: $0.offset) }
        let unknownID = try tokenID("tokenizer.ggml.unknown_token_id", count: tokens.count)
            ?? types.firstIndex(of: TokenType.unknown.rawValue)
        let options = BPEModel.Options(byteLevel: false, unknownToken: unknownID.map { tokens[$0] },
                                       fuseUnknown: true, byteFallback: true)
        let merges = Self.mergesFromScores(tokens: tokens, scores: scores)
        let model = try BPEModel(entries: entries, merges: merges, options: options, file: file)
        var parts = try commonParts(model: model, tokens: tokens, types: types, addBOSDefault: true)
        let spacePrefix = try flag("tokenizer.ggml.add_space_prefix") ?? true
        let replaceSpaces = Normalizer.replace(pattern: Array(" ".utf8), content: Array("▁".utf8))
        parts.normalizer = spacePrefix ? .sequence([.prepend(Array("▁".utf8)), replaceSpaces]) : replaceSpaces
        var decoders: [Decoder] = [.replace(pattern: "▁", content: " "), .byteFallback, .fuse]
        if spacePrefix { decoders.append(.strip(content: " ", start: 1, stop: 0)) }
        parts.decoder = .sequence(decoders)
        return parts
    }

    /// BPE merges from SentencePiece scores, as transformers' `GGUFTokenizerSkeleton` builds them: every
    /// split of every token into two vocabulary tokens is a merge with the token's score; within a token
    /// the splits go by the halves' scores, then all merges by score, highest first (stable sorts).
    static func mergesFromScores(tokens: [String], scores: [Float]) -> [(String, String)] {
        // Keyed by UTF-8 bytes: Python compares strings exactly, Swift `String` up to canonical equivalence.
        var scoreOf: [[UInt8]: Float] = [:]
        var order: [String] = []
        for (token, score) in zip(tokens, scores) {
            if scoreOf.updateValue(score, forKey: Array(token.utf8)) == nil { order.append(token) }
        }
        var merges: [(left: String, right: String, score: Float, sequence: Int)] = []
        for piece in order {
            let scalars = Array(piece.unicodeScalars)
            guard scalars.count > 1, let score = scoreOf[Array(piece.utf8)] else { continue }
            var local: [(left: String, right: String, leftScore: Float, rightScore: Float, sequence: Int)] = []
            for cut in 1..<scalars.count {
                let left = String(String.UnicodeScalarView(scalars[..<cut]))
                let right = String(String.UnicodeScalarView(scalars[cut...]))
                if let leftScore = scoreOf[Array(left.utf8)], let rightScore = scoreOf[Array(right.utf8)] {
                    local.append((left, right, leftScore, rightScore, local.count))
                }
            }
            local.sort { a, b in
                if a.leftScore != b.leftScore { return a.leftScore > b.leftScore }
                if a.rightScore != b.rightScore { return a.rightScore > b.rightScore }
                return a.sequence < b.sequence
            }
            for entry in local { merges.append((entry.left, entry.right, score, merges.count)) }
        }
        merges.sort { a, b in a.score != b.score ? a.score > b.score : a.sequence < b.sequence }
        return merges.map { ($0.left, $0.right) }
    }
}
