import TestRandom
import Testing
@testable import Speculation

@Suite struct SuffixArrayTests {
    /// Builds the suffix array through the datastore at the given widths and returns it.
    func suffixArray(_ text: [Int32], vocabulary: Int, tokenWidth: Int, positionWidth: Int) throws -> [Int] {
        let store = try Datastore.build(tokens: text, documentCount: 1, vocabularySize: vocabulary, separator: nil,
                                        tokenWidth: tokenWidth, positionWidth: positionWidth)
        #expect(store.tokenWidth == tokenWidth && store.positionWidth == positionWidth)
        return (0..<text.count).map { store.suffixPosition(at: $0) }
    }

    @Test(arguments: [(2, 4), (2, 8), (4, 4), (4, 8)])
    func equalsNaiveSortOnRandomStrings(widths: (Int, Int)) throws {
        for seed in 0..<60 {
            var rng = SplitMix64(seed: UInt64(seed))
            let alphabet = [1, 2, 3, 5, 40, 300][seed % 6]
            let count = Int.random(in: 0...400, using: &rng)
            let text = randomTokens(count: count, alphabet: alphabet, rng: &rng)
            let vocabulary = widths.0 == 4 ? 70_000 : max(alphabet, 1)
            let sa = try suffixArray(text, vocabulary: vocabulary, tokenWidth: widths.0, positionWidth: widths.1)
            #expect(sa == naiveSuffixArray(text), "seed \(seed), alphabet \(alphabet), n \(count)")
        }
    }

    @Test func handlesDegenerateStrings() throws {
        for text: [Int32] in [[], [0], [3, 3], [3, 1], [1, 3], Array(repeating: 5, count: 300),
                              (0..<200).map { Int32($0 % 2) }, (0..<200).map { Int32(199 - $0) }] {
            let sa = try suffixArray(text, vocabulary: 300, tokenWidth: 2, positionWidth: 4)
            #expect(sa == naiveSuffixArray(text), "\(text.prefix(8))…")
        }
    }

    @Test func largeTextIsAPermutationInOrder() throws {
        var rng = SplitMix64(seed: 99)
        let text = randomTokens(count: 200_000, alphabet: 50, rng: &rng)
        let store = try Datastore.build(tokens: text, documentCount: 1, vocabularySize: 50, separator: nil)
        var seen = [Bool](repeating: false, count: text.count)
        var previous: Int? = nil
        for rank in 0..<text.count {
            let p = store.suffixPosition(at: rank)
            #expect(!seen[p])
            seen[p] = true
            if let q = previous {
                // Adjacent suffixes in order (checked on their first 64 tokens, enough to differ here).
                let a = text[q..<min(q + 64, text.count)], b = text[p..<min(p + 64, text.count)]
                if a.lexicographicallyPrecedes(b) == false && a != b { Issue.record("order broken at rank \(rank)"); break }
            }
            previous = p
        }
    }
}
