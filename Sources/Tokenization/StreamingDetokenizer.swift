/// Turns ids arriving one at a time into text deltas whose concatenation equals `decode(all ids)`.
/// A delta never ends inside a UTF-8 sequence: bytes of an incomplete character are held back until
/// the character completes (or `finish()` is called), and a run of `<0xNN>` byte-fallback tokens is held
/// until it ends, because the decoder turns an invalid run into one U+FFFD per byte.
///
/// It decodes a short window of ids (from the last emitted boundary on) and emits what the window's
/// text adds after the part already sent, as text-generation-inference does, so cross-token decoder
/// rules (SentencePiece's leading-space strip, byte-level UTF-8 repair) apply exactly as in `decode`.
public struct StreamingDetokenizer: Sendable {
    private let tokenizer: Tokenizer
    private let skipSpecialTokens: Bool
    private var ids: [Int]
    /// Start of the window: ids before it are fully emitted.
    private var prefixOffset: Int
    /// End of what has been emitted: text of ids[prefixOffset..<readOffset] is already out.
    private var readOffset: Int

    /// `priorIDs` are ids already shown (e.g. the prompt): deltas continue their text, so the result
    /// equals `decode(priorIDs + pushed) - decode(priorIDs)`.
    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool, priorIDs: [Int] = []) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
        ids = priorIDs
        readOffset = priorIDs.count
        prefixOffset = max(0, priorIDs.count - 8)
    }

    /// Adds one id; returns the text that is now certain (often empty while a character is incomplete).
    public mutating func push(_ id: Int) -> String {
        ids.append(id)
        if skipSpecialTokens && tokenizer.isSpecial(id) { return "" }
        if tokenizer.isByteFallbackToken(id) { return "" }
        let emitted = windowText(to: readOffset)
        let current = windowText(to: ids.count)
        guard current.utf8.count > emitted.utf8.count, current.unicodeScalars.last != "\u{FFFD}",
              current.utf8.starts(with: emitted.utf8) else { return "" }
        prefixOffset = readOffset
        readOffset = ids.count
        if prefixOffset > 256 {  // ids before the window are never read again
            ids.removeFirst(prefixOffset)
            readOffset -= prefixOffset
            prefixOffset = 0
        }
        return Self.suffix(of: current, after: emitted)
    }

    /// Flushes everything held back (an incomplete character becomes U+FFFD, as in `decode`).
    public mutating func finish() -> String {
        let emitted = windowText(to: readOffset)
        let current = windowText(to: ids.count)
        prefixOffset = ids.count
        readOffset = ids.count
        guard current.utf8.starts(with: emitted.utf8) else { return "" }
        return Self.suffix(of: current, after: emitted)
    }

    private func windowText(to end: Int) -> String {
        tokenizer.decode(Array(ids[prefixOffset..<end]), skipSpecialTokens: skipSpecialTokens)
    }

    private static func suffix(of text: String, after prefix: String) -> String {
        String(decoding: text.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
    }
}
