import TestRandom
import Foundation
import Testing
@testable import Speculation

@Suite struct DatastoreTests {
    /// Documents of random tokens (1 ..< alphabet), each to be prefixed with separator 0.
    func randomDocuments(seed: UInt64, count: Int, alphabet: Int) -> [[Int32]] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            randomTokens(count: Int.random(in: 1...60, using: &rng), alphabet: alphabet - 1, rng: &rng).map { $0 + 1 }
        }
    }

    func flatten(_ documents: [[Int32]], separator: Int32) -> [Int32] {
        documents.flatMap { [separator] + $0 }
    }

    @Test func queryRangesEqualBruteForce() throws {
        for seed in UInt64(0)..<8 {
            let documents = randomDocuments(seed: seed, count: 40, alphabet: 6)
            let store = try Datastore.build(documents: documents, vocabularySize: 6, separator: 0)
            let text = flatten(documents, separator: 0)
            #expect(store.tokenCount == text.count && store.documentCount == 40)
            var rng = SplitMix64(seed: seed + 100)
            // Shared by all 200 keys: over 6 tokens most of their first pairs are already in it.
            var cache = PrefixRangeCache()
            for _ in 0..<200 {
                let length = Int.random(in: 1...4, using: &rng)
                let key: [Int32]
                if Bool.random(using: &rng) {
                    let start = Int.random(in: 0...(text.count - length), using: &rng)
                    key = Array(text[start..<start + length])
                } else {
                    key = (0..<length).map { _ in Int32.random(in: 0..<7, using: &rng) }
                }
                let expected = Set(text.indices.filter { p in
                    p + length <= text.count && Array(text[p..<p + length]) == key
                })
                let range = store.suffixRange(of: key)
                let found = Set(range.map { store.suffixPosition(at: $0) })
                #expect(found == expected, "key \(key)")
                #expect(found.count == range.count)
                #expect(store.suffixRange(of: key, cache: &cache) == range, "key \(key), from its pair's range")
            }
        }
    }

    @Test func strideSamplingSpreadsOverTheWholeRange() throws {
        // Key 1 2 3 occurs 1000 times, followed by 1000 different tokens; suffix order sorts them.
        let documents: [[Int32]] = (0..<1000).map { [1, 2, 3, Int32(10 + $0)] }
        let store = try Datastore.build(documents: documents, vocabularySize: 1100, separator: 0)
        var trie = CountTrie()
        let lookup = store.continuations(of: [1, 2, 3], depth: 1, maxSamples: 100,
                                         backoff: .threshold(minimumCount: 50), into: &trie)
        #expect(lookup.samples == 100 && lookup.longestMatchCount == 1000 && lookup.keysSearched == 1)
        var next: [Int32] = []
        trie.forEachChild(of: CountTrie.root) { next.append(trie.token($0)) }
        next.sort()
        #expect(next.count == 100)
        #expect(next.first! < 10 + 20 && next.last! > 10 + 980)
        // Evenly spaced: every consecutive pair of sampled hits is 10 ranks apart.
        #expect(zip(next, next.dropFirst()).allSatisfy { $1 - $0 == 10 })
    }

    @Test func thresholdBackoffAddsShorterKeysUntilEnoughContinuations() throws {
        // "9 1 2 3" → 7 three times; "1 2 3" (without 9) → 8 a hundred times.
        let documents: [[Int32]] = Array(repeating: [9, 1, 2, 3, 7], count: 3) + Array(repeating: [1, 2, 3, 8], count: 100)
        let store = try Datastore.build(documents: documents, vocabularySize: 10, separator: 0)
        var trie = CountTrie()
        let lookup = store.continuations(of: [9, 1, 2, 3], depth: 2, maxSamples: 100,
                                         backoff: .threshold(minimumCount: 50), into: &trie)
        #expect(lookup.keysSearched == 2 && lookup.longestMatch == 4 && lookup.longestMatchCount == 3)
        #expect(lookup.samples == 103)
        let p7 = trie.weight(trie.walk([7])!) / trie.weight(CountTrie.root)
        #expect(abs(p7 - 6 / 103) < 1e-5)  // the 4-token key's 3 hits plus the 3 in "1 2 3"'s range
        // The continuation stops at the next document's separator.
        #expect(trie.walk([8, 0]) == nil)
    }

    @Test func adaptiveBackoffStopsOnDecisiveEvidenceAndSearchesOnSplitEvidence() throws {
        // "5 1 2 3" → 7 sixty times (decisive); "6 1 2 3" → 7 or 4, thirty times each (split);
        // "1 2 3" alone → 8 a hundred times.
        let documents: [[Int32]] = Array(repeating: [5, 1, 2, 3, 7], count: 60)
            + Array(repeating: [6, 1, 2, 3, 7], count: 30) + Array(repeating: [6, 1, 2, 3, 4], count: 30)
            + Array(repeating: [1, 2, 3, 8], count: 100)
        let store = try Datastore.build(documents: documents, vocabularySize: 10, separator: 0)
        let adaptive = BackoffPolicy.adaptive(minimumCount: 50, decisiveShare: 0.9, maximumCount: 150)
        var trie = CountTrie()
        let decisive = store.continuations(of: [5, 1, 2, 3], maxSamples: 100, backoff: adaptive, into: &trie)
        #expect(decisive.keysSearched == 1 && decisive.samples == 60)
        let split = store.continuations(of: [6, 1, 2, 3], maxSamples: 100, backoff: adaptive, into: &trie)
        #expect(split.keysSearched == 2 && split.samples == 160)  // 60 + 100 of "1 2 3"'s 220 hits
        #expect(split.longestMatch == 4 && split.longestMatchCount == 60)
        // The fixed threshold stops at the split key.
        let fixed = store.continuations(of: [6, 1, 2, 3], maxSamples: 100, backoff: .threshold(minimumCount: 50),
                                        into: &trie)
        #expect(fixed.keysSearched == 1)
        // Below the minimum count the search goes on even when decisive.
        let rare = store.continuations(of: [9, 5, 1, 2], maxSamples: 40, backoff: adaptive, into: &trie)
        #expect(rare.longestMatch == 3 && rare.keysSearched == 3 && rare.samples == 80)
        // Split evidence is searched down to one token, unless the maximum count stops it first.
        let wide = store.continuations(of: [6, 1, 2, 3], maxSamples: 40, backoff: adaptive, into: &trie)
        #expect(wide.keysSearched == 4 && wide.samples == 160)
        let capped = store.continuations(
            of: [6, 1, 2, 3], maxSamples: 40,
            backoff: .adaptive(minimumCount: 50, decisiveShare: 0.9, maximumCount: 70), into: &trie)
        #expect(capped.keysSearched == 2 && capped.samples == 80)
        // A missing token finds nothing.
        #expect(store.continuations(of: [9], into: &trie).samples == 0 && trie.weight(CountTrie.root) == 0)
    }

    @Test func writeOpenRoundTrip() throws {
        for (vocabulary, documents) in [(6, randomDocuments(seed: 3, count: 30, alphabet: 6)),
                                        (100_000, randomDocuments(seed: 4, count: 30, alphabet: 6).map { $0.map { $0 * 16_000 } })] {
            let built = try Datastore.build(documents: documents, vocabularySize: vocabulary, separator: 0)
            let path = temporaryPath("roundtrip.sssd")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try built.write(to: path)
            let opened = try Datastore.open(path: path)
            #expect(opened.vocabularySize == vocabulary && opened.separator == 0)
            #expect(opened.tokenWidth == (vocabulary <= 65536 ? 2 : 4))
            #expect(opened.tokenCount == built.tokenCount && opened.documentCount == 30)
            for i in 0..<built.tokenCount {
                #expect(opened.token(at: i) == built.token(at: i))
                #expect(opened.suffixPosition(at: i) == built.suffixPosition(at: i))
            }
            let key = Array(documents[0].prefix(2))
            #expect(opened.suffixRange(of: key) == built.suffixRange(of: key))
            #expect(try Datastore.open(path: path, vocabularySize: vocabulary).tokenCount == built.tokenCount)
            #expect(throws: DatastoreError.self) { try Datastore.open(path: path, vocabularySize: vocabulary + 1) }
        }
    }

    @Test func rejectsBadBuildInput() {
        #expect(throws: DatastoreError.self) { try Datastore.build(documents: [[1, 2, 10]], vocabularySize: 10, separator: 0) }
        #expect(throws: DatastoreError.self) { try Datastore.build(documents: [[1, -2]], vocabularySize: 10, separator: 0) }
        #expect(throws: DatastoreError.self) { try Datastore.build(documents: [[1]], vocabularySize: 10, separator: 10) }
    }

    @Test func corruptOrTruncatedFilesThrow() throws {
        let store = try Datastore.build(documents: randomDocuments(seed: 5, count: 20, alphabet: 6),
                                        vocabularySize: 6, separator: 0)
        let path = temporaryPath("good.sssd")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try store.write(to: path)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let saOffset = Int(good[48]) | Int(good[49]) << 8 | Int(good[50]) << 16

        func expectFailure(_ name: String, mentioning words: String, _ damage: (inout Data) -> Void) throws {
            var bytes = good
            damage(&bytes)
            let bad = temporaryPath(name)
            defer { try? FileManager.default.removeItem(atPath: bad) }
            try bytes.write(to: URL(fileURLWithPath: bad))
            do {
                _ = try Datastore.open(path: bad)
                Issue.record("\(name): opened a damaged file")
            } catch let error as DatastoreError {
                #expect(error.message.contains(bad), "\(name): \(error.message)")
                #expect(error.message.contains(words), "\(name): \(error.message)")
                #expect(!error.message.contains("\n"))
            }
        }
        try expectFailure("magic", mentioning: "magic") { $0[0] = UInt8(ascii: "X") }
        try expectFailure("version", mentioning: "version") { $0[8] = 2 }
        try expectFailure("width", mentioning: "token width") { $0[12] = 3 }
        try expectFailure("positions", mentioning: "position width") { $0[16] = 5 }
        try expectFailure("vocab", mentioning: "vocabulary") { $0[20] = 0; $0[21] = 0; $0[22] = 2 }
        try expectFailure("separator", mentioning: "separator") { $0[24] = 9 }
        try expectFailure("huge-vocab", mentioning: "vocabulary") { $0[12] = 4; $0[23] = 0xFF }
        try expectFailure("truncated", mentioning: "bytes") { $0.removeLast(3) }
        try expectFailure("header-only", mentioning: "bytes") { $0 = $0.prefix(40) }
        try expectFailure("count", mentioning: "token") { $0[32] &+= 1 }
        try expectFailure("token", mentioning: "token id") { $0[64] = 0xFF; $0[65] = 0x7F }
        try expectFailure("sa", mentioning: "suffix array") { $0[saOffset + 3] = 0x40 }
        #expect(throws: DatastoreError.self) { try Datastore.open(path: temporaryPath("missing.sssd")) }
    }
}
