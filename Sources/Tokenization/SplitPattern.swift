/// The split regexes of the supported families, as hand-written scanners over scalars with exactly the
/// regex semantics (first matching alternative wins, greedy runs, `\s+(?!\S)` giving back one space).
enum SplitPattern: Sendable, Equatable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// As `llama3` with `\p{N}` (single digits) instead of `\p{N}{1,3}`.
    case qwen2
    /// A literal string (`{"String": ...}` patterns).
    case literal([UInt8])
    /// Metaspace's split: a piece starts at every occurrence of the delimiter (HF `MergedWithNext`).
    case mergedWithNext([UInt8])

    static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The scanner for a regex source string, or nil when it is not one of the known patterns.
    init?(regex: String) {
        switch regex {
        case Self.gpt2Regex: self = .gpt2
        case Self.llama3Regex: self = .llama3
        case Self.qwen2Regex: self = .qwen2
        default: return nil
        }
    }

    /// Calls `body` with the byte range of every match and of every stretch between matches, in order
    /// (HF `Isolated` behaviour); with `dropMatches`, only the stretches between matches (`Removed`).
    func split(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, dropMatches: Bool,
               _ body: (Range<Int>) -> Void) {
        switch self {
        case .literal(let needle):
            splitLiteral(needle, bytes, range, dropMatches: dropMatches, body)
            return
        case .mergedWithNext(let delimiter):
            Self.splitBefore(delimiter, bytes, range, body)
            return
        default:
            break
        }
        var start = range.lowerBound
        while start < range.upperBound {
            let end = Self.chunkEnd(bytes, from: start, limit: range.upperBound)
            splitChunk(bytes, start..<end, dropMatches: dropMatches, body)
            start = end
        }
    }

    /// Long texts are scanned in chunks (so the decoded scalars stay small) cut only where every regex
    /// splits anyway and looks neither ahead nor back: before an ASCII letter that follows a "\n" that
    /// follows a non-space ASCII byte ("x\nd"). The "\n" then always ends a match, and a match starts
    /// at the letter.
    static let chunkBytes = 1 << 16

    static func chunkEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int) -> Int {
        guard limit - start > 2 * chunkBytes else { return limit }
        var p = start + chunkBytes
        while p < limit - chunkBytes {
            if bytes[p - 1] == 0x0A, isLetter(bytes[p]), bytes[p - 2] > 0x20, bytes[p - 2] < 0x7F {
                return p
            }
            p += 1
        }
        return limit
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    func splitChunk(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, dropMatches: Bool,
                            _ body: (Range<Int>) -> Void) {
        let text = ScalarText(bytes, range)
        var gapStart = 0
        var i = 0
        while i < text.count {
            let length = matchLength(text, at: i)
            if length == 0 { i += 1; continue }
            if gapStart < i { body(text.offsets[gapStart]..<text.offsets[i]) }
            if !dropMatches { body(text.offsets[i]..<text.offsets[i + length]) }
            i += length
            gapStart = i
        }
        if gapStart < text.count { body(text.offsets[gapStart]..<text.offsets[text.count]) }
    }

    private static func splitBefore(_ delimiter: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                                    _ body: (Range<Int>) -> Void) {
        var start = range.lowerBound
        var i = range.lowerBound + 1
        while i + delimiter.count <= range.upperBound {
            if (0..<delimiter.count).allSatisfy({ bytes[i + $0] == delimiter[$0] }) {
                body(start..<i)
                start = i
                i += delimiter.count
            } else {
                i += 1
            }
        }
        if start < range.upperBound { body(start..<range.upperBound) }
    }

    private func splitLiteral(_ needle: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                              dropMatches: Bool, _ body: (Range<Int>) -> Void) {
        guard !needle.isEmpty else { body(range); return }
        var start = range.lowerBound
        var i = range.lowerBound
        while i + needle.count <= range.upperBound {
            if bytes[i] == needle[0], (0..<needle.count).allSatisfy({ bytes[i + $0] == needle[$0] }) {
                if start < i { body(start..<i) }
                if !dropMatches { body(i..<i + needle.count) }
                i += needle.count
                start = i
            } else {
                i += 1
            }
        }
        if start < range.upperBound { body(start..<range.upperBound) }
    }

    /// Length in scalars of the match starting at scalar `i`, 0 if none starts there.
    @inline(__always)
    private func matchLength(_ text: ScalarText, at i: Int) -> Int {
        switch self {
        case .gpt2: return SplitScanner(text: text).gpt2(i)
        case .llama3: return SplitScanner(text: text).llama3(i, maxDigits: 3)
        case .qwen2: return SplitScanner(text: text).llama3(i, maxDigits: 1)
        case .literal, .mergedWithNext: return 0
        }
    }
}

/// The alternatives of the split regexes, each returning a match length in scalars (0: no match).
struct SplitScanner {
    let text: ScalarText

    private var n: Int { text.count }
    private func cls(_ i: Int) -> UInt8 { text.classes[i] }
    private func isLetter(_ i: Int) -> Bool { i < n && text.classes[i] & ScalarClass.letter != 0 }
    private func isOther(_ i: Int) -> Bool { i < n && ScalarClass.isOther(text.classes[i]) }

    /// End of the run of scalars from `i` whose class has any bit of `mask`.
    private func run(from i: Int, _ mask: UInt8) -> Int {
        var j = i
        while j < n && text.classes[j] & mask != 0 { j += 1 }
        return j
    }

    private func runOther(from i: Int) -> Int {
        var j = i
        while j < n && ScalarClass.isOther(text.classes[j]) { j += 1 }
        return j
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d`, case-insensitively when asked (`ſ` folds to `s` in Oniguruma).
    private func contraction(_ i: Int, ignoringCase: Bool) -> Int {
        guard text.scalars[i] == 0x27, i + 1 < n else { return 0 }
        func letter(_ k: Int) -> UInt32 {
            let value = text.scalars[k]
            guard ignoringCase else { return value }
            if value == 0x17F { return 0x73 }
            return (0x41...0x5A).contains(value) ? value + 0x20 : value
        }
        switch letter(i + 1) {
        case 0x73, 0x74, 0x6D, 0x64: return 2                  // s t m d
        case 0x72, 0x76: return i + 2 < n && letter(i + 2) == 0x65 ? 3 : 0   // re ve
        case 0x6C: return i + 2 < n && letter(i + 2) == 0x6C ? 3 : 0         // ll
        default: return 0
        }
    }

    /// `\s+(?!\S)|\s+` at a whitespace scalar: the run, less its last scalar when a non-space follows.
    private func trailingSpaces(_ i: Int) -> Int {
        let end = run(from: i, ScalarClass.space)
        if end == n || end - i == 1 { return end - i }
        return end - i - 1
    }

    func gpt2(_ i: Int) -> Int {
        let c = cls(i)
        let contracted = contraction(i, ignoringCase: false)
        if contracted > 0 { return contracted }
        let spaceFirst = text.scalars[i] == 0x20 && i + 1 < n
        let letter = ScalarClass.letter, number = ScalarClass.number
        if spaceFirst && cls(i + 1) & letter != 0 { return run(from: i + 1, letter) - i }
        if c & letter != 0 { return run(from: i, letter) - i }
        if spaceFirst && cls(i + 1) & number != 0 { return run(from: i + 1, number) - i }
        if c & number != 0 { return run(from: i, number) - i }
        if spaceFirst && isOther(i + 1) { return runOther(from: i + 1) - i }
        if ScalarClass.isOther(c) { return runOther(from: i) - i }
        return trailingSpaces(i)
    }

    func llama3(_ i: Int, maxDigits: Int) -> Int {
        let c = cls(i)
        let contracted = contraction(i, ignoringCase: true)
        if contracted > 0 { return contracted }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if c & ScalarClass.letter != 0 { return run(from: i, ScalarClass.letter) - i }
        if c & (ScalarClass.letter | ScalarClass.number | ScalarClass.newline) == 0 && isLetter(i + 1) {
            return run(from: i + 1, ScalarClass.letter) - i
        }
        // \p{N}{1,maxDigits}
        if c & ScalarClass.number != 0 { return min(run(from: i, ScalarClass.number) - i, maxDigits) }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var otherEnd = -1
        if text.scalars[i] == 0x20 && isOther(i + 1) {
            otherEnd = runOther(from: i + 1)
        } else if ScalarClass.isOther(c) {
            otherEnd = runOther(from: i)
        }
        if otherEnd >= 0 { return run(from: otherEnd, ScalarClass.newline) - i }
        // \s*[\r\n]+ : the space run up to and including its last newline
        let end = run(from: i, ScalarClass.space)
        var k = end - 1
        while k >= i && cls(k) & ScalarClass.newline == 0 { k -= 1 }
        if k >= i { return k + 1 - i }
        return trailingSpaces(i)
    }
}
