import Foundation
import Testing
@testable import Tokenization

/// Streaming deltas must concatenate to `decode` and never show a half-received character.
struct StreamingDetokenizerTests {
    /// Pushes `ids` one by one; returns the deltas (finish() last).
    static func stream(_ tokenizer: Tokenizer, _ ids: [Int], skip: Bool, prior: [Int] = []) -> [String] {
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: skip, priorIDs: prior)
        return ids.map { detokenizer.push($0) } + [detokenizer.finish()]
    }

    @Test(arguments: Fixtures.families)
    func concatenationEqualsDecode(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        for c in try Fixtures.cases(family) {
            for ids in [c.ids, c.ids_add_special] {
                for skip in [false, true] {
                    let expected = tokenizer.decode(ids, skipSpecialTokens: skip)
                    let deltas = Self.stream(tokenizer, ids, skip: skip)
                    #expect(deltas.joined() == expected, "\(family) \(c.text.debugDescription) skip=\(skip)")
                    if !expected.contains("\u{FFFD}") {
                        #expect(!deltas.contains { $0.contains("\u{FFFD}") }, "\(family) \(c.text.debugDescription)")
                    }
                }
            }
        }
    }

    @Test(arguments: Fixtures.families)
    func continuesAfterPriorIDs(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        for c in try Fixtures.cases(family) where c.ids.count >= 2 {
            for cut in [1, c.ids.count / 2, c.ids.count - 1] {
                let prior = Array(c.ids[..<cut])
                let deltas = Self.stream(tokenizer, Array(c.ids[cut...]), skip: false, prior: prior)
                let whole = tokenizer.decode(c.ids, skipSpecialTokens: false)
                let before = tokenizer.decode(prior, skipSpecialTokens: false)
                if whole.utf8.starts(with: before.utf8) && !before.contains("\u{FFFD}") {
                    #expect(before + deltas.joined() == whole, "\(family) \(c.text.debugDescription) cut \(cut)")
                }
            }
        }
    }

    @Test func emojiSplitAcrossByteTokensIsHeldBack() throws {
        // Byte-level: 🐍 is four bytes, each its own token in the pycode vocabulary.
        let tokenizer = try Tokenizer.load(path: Fixtures.pycodeFolder.path)
        let ids = tokenizer.encode("a🐍b", addSpecialTokens: false)
        #expect(ids.count >= 4)
        let deltas = Self.stream(tokenizer, ids, skip: false)
        #expect(deltas.joined() == "a🐍b")
        #expect(deltas.contains("🐍") || deltas.contains { $0.hasSuffix("🐍") || $0.hasPrefix("🐍") })
        #expect(!deltas.contains { $0.contains("\u{FFFD}") })
    }

    @Test func spmByteFallbackEmojiAndLeadingSpace() throws {
        let tokenizer = try Fixtures.tokenizer("t3_spm")
        let ids = tokenizer.encode("😀 ok", addSpecialTokens: true)
        #expect(ids.filter { tokenizer.isByteFallbackToken($0) }.count == 4)
        let deltas = Self.stream(tokenizer, ids, skip: true)
        #expect(deltas.joined() == "😀 ok")
        #expect(!deltas.contains { $0.contains("\u{FFFD}") })
        // Leading-space strip applies to the first text token only, as in decode.
        let words = tokenizer.encode("hello world", addSpecialTokens: false)
        #expect(Self.stream(tokenizer, words, skip: false).joined() == "hello world")
    }

    @Test func truncatedCharacterFlushesAsReplacement() throws {
        let tokenizer = try Tokenizer.load(path: Fixtures.pycodeFolder.path)
        let ids = Array(tokenizer.encode("🐍", addSpecialTokens: false).dropLast())
        let deltas = Self.stream(tokenizer, ids, skip: false)
        #expect(deltas.dropLast().allSatisfy { $0.isEmpty })
        #expect(deltas.joined() == tokenizer.decode(ids, skipSpecialTokens: false))
        #expect(deltas.joined().contains("\u{FFFD}"))
    }
}

/// Random id sequences (invalid UTF-8 splits, special tokens anywhere) still stream to exactly `decode`.
struct StreamingRandomIDTests {
    /// Deterministic xorshift, so a failure reproduces.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
    }

    @Test(arguments: Fixtures.families)
    func randomIDsStreamToDecode(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        var random = Generator(state: 0x9E37_79B9_7F4A_7C15)
        for round in 0..<400 {
            let ids = (0..<Int.random(in: 1...16, using: &random)).map { _ in
                Int.random(in: 0..<tokenizer.vocabularySize, using: &random)
            }
            let skip = round % 2 == 0
            let streamed = StreamingDetokenizerTests.stream(tokenizer, ids, skip: skip).joined()
            #expect(streamed == tokenizer.decode(ids, skipSpecialTokens: skip), "\(family) ids \(ids) skip \(skip)")
        }
    }
}

/// A long generation (past the point where old ids are dropped) still streams to exactly `decode`.
struct StreamingLongTextTests {
    @Test(arguments: ["pycode", "t3_spm"])
    func longStreamEqualsDecode(name: String) throws {
        let tokenizer = try HFReferenceTests.tokenizer(name)
        let text = try HFReferenceTests.text(HFReference.corpusText) + HFReferenceTests.text(HFReference.stressText)
        let ids = tokenizer.encode(text, addSpecialTokens: false)
        #expect(ids.count > 2000)
        let deltas = StreamingDetokenizerTests.stream(tokenizer, Array(ids.dropFirst(3)), skip: false, prior: Array(ids.prefix(3)))
        let expected = String(decoding: tokenizer.decode(ids, skipSpecialTokens: false).utf8
            .dropFirst(tokenizer.decode(Array(ids.prefix(3)), skipSpecialTokens: false).utf8.count), as: UTF8.self)
        #expect(deltas.joined() == expected)
    }
}
