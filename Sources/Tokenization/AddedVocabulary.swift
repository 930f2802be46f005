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
                i += 1
                continue
            }
            if token.lstrip {
                while start > textStart && isSpace(bytes[start - 1]) { start -= 1 }
            }
            if token.rstrip {
                while stop < range.upperBound && isSpace(bytes[stop]) { stop += 1 }
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

    // ASCII whitespace and word characters suffice here: HF tests `char::is_whitespace` and
    // alphanumerics, and a UTF-8 lead/continuation byte is never mistaken for ASCII.
    private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    private func isWordByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte)
            || (0x61...0x7A).contains(byte) || byte == 0x5F
    }

    private func isWordBoundary(_ bytes: UnsafeBufferPointer<UInt8>, before i: Int, from start: Int) -> Bool {
        i == start || !isWordByte(bytes[i - 1])
    }

    private func isWordBoundary(_ bytes: UnsafeBufferPointer<UInt8>, after i: Int, to end: Int) -> Bool {
        i == end || !isWordByte(bytes[i])
    }
}
