/// A token from `added_tokens` (or a GGUF control token): matched as a whole inside the text before
/// normalization and pre-tokenization.
struct AddedToken: Sendable {
    var id: Int
    let content: String
    let special: Bool
    var lstrip = false
    var rstrip = false
    var normalized = false
    var singleWord = false

    /// Same content and flags (HF's AddedToken equality, which ignores the id).
    func sameDefinition(as other: AddedToken) -> Bool {
        content.utf8.elementsEqual(other.content.utf8) && special == other.special && lstrip == other.lstrip
            && rstrip == other.rstrip && normalized == other.normalized && singleWord == other.singleWord
    }
}

/// A piece of input after the added tokens are cut out: either an added token's id or plain text to run
/// through the normalizer, pre-tokenizer and model.
enum AddedSplit {
    case token(Int)
    case text(Range<Int>)
}

/// Finds added tokens in text the way HF's AddedVocabulary does: leftmost-longest matches, with the
/// `single_word`, `lstrip` and `rstrip` rules.
struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    /// first byte → indices into `contents` of the candidates starting with it, longest first.
    private let candidates: [[Int]]
    private let contents: [[UInt8]]

    /// Tokens flagged `normalized` are looked for in normalized text as their normalized content (with
    /// SentencePiece's Prepend("▁"), "hello" is found as "▁hello"), as HF does.
    init(_ tokens: [AddedToken], normalizer: Normalizer? = nil) {
        self.tokens = tokens
        contents = tokens.map { token in
            let bytes = Array(token.content.utf8)
            guard token.normalized, let normalizer else { return bytes }
            return normalizer.apply(bytes)
        }
        var byFirst = [[Int]](repeating: [], count: 256)
        for (index, bytes) in contents.enumerated() where !bytes.isEmpty {
            byFirst[Int(bytes[0])].append(index)
        }
        let lengths = contents.map(\.count)
        candidates = byFirst.map { $0.sorted { lengths[$0] > lengths[$1] } }
    }

    var isEmpty: Bool { tokens.isEmpty }
    var hasNormalizedTokens: Bool { tokens.contains { $0.normalized } }

    /// Splits `range` of `bytes` around the added tokens whose `normalized` flag equals `normalized`.
    func split(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, normalized: Bool) -> [AddedSplit] {
        var result: [AddedSplit] = []
        var textStart = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            guard let found = match(bytes, at: i, end: range.upperBound, normalized: normalized) else {
                i += 1
                continue
            }
            let token = tokens[found]
            var start = i
            var stop = i + contents[found].count
            if token.singleWord && !(isWordBoundary(bytes, before: start, from: range.lowerBound)
                                     && isWordBoundary(bytes, after: stop, to: range.upperBound)) {
                i = stop  // the matcher has consumed the span even though the token is not used here
                continue
            }
            if token.lstrip {
                while start > textStart, let (scalar, length) = Self.scalar(bytes, before: start, from: textStart),
                      scalar.properties.isWhitespace {
                    start -= length
                }
            }
            if token.rstrip {
                while stop < range.upperBound, let (scalar, length) = Self.scalar(bytes, at: stop, end: range.upperBound),
                      scalar.properties.isWhitespace {
                    stop += length
                }
            }
            if textStart < start { result.append(.text(textStart..<start)) }
            result.append(.token(token.id))
            i = stop
            textStart = stop
        }
        if textStart < range.upperBound { result.append(.text(textStart..<range.upperBound)) }
        return result
    }

    @inline(__always)
    private func match(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int, end: Int, normalized: Bool) -> Int? {
        for index in candidates[Int(bytes[i])] where tokens[index].normalized == normalized {
            let content = contents[index]
            guard i + content.count <= end else { continue }
            var k = 1
            while k < content.count && bytes[i + k] == content[k] { k += 1 }
            if k == content.count { return index }
        }
        return nil
    }

    /// The scalar starting at `i`, with its UTF-8 length.
    private static func scalar(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int, end: Int) -> (Unicode.Scalar, Int)? {
        let (value, length) = UTF8Scanning.decode(bytes, at: i, end: end)
        return Unicode.Scalar(value).map { ($0, length) }
    }

    /// The scalar ending just before `i` (not before `start`), with its UTF-8 length.
    private static func scalar(_ bytes: UnsafeBufferPointer<UInt8>, before i: Int, from start: Int) -> (Unicode.Scalar, Int)? {
        var j = i - 1
        while j > start && bytes[j] & 0xC0 == 0x80 { j -= 1 }
        return scalar(bytes, at: j, end: i)
    }

    /// Rust's `char::is_alphanumeric() || c == '_'`, HF's word character for `single_word`.
    private static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "_" || scalar.properties.isAlphabetic { return true }
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    private func isWordBoundary(_ bytes: UnsafeBufferPointer<UInt8>, before i: Int, from start: Int) -> Bool {
        guard i > start, let (scalar, _) = Self.scalar(bytes, before: i, from: start) else { return true }
        return !Self.isWordCharacter(scalar)
    }

    private func isWordBoundary(_ bytes: UnsafeBufferPointer<UInt8>, after i: Int, to end: Int) -> Bool {
        guard i < end, let (scalar, _) = Self.scalar(bytes, at: i, end: end) else { return true }
        return !Self.isWordCharacter(scalar)
    }
}
