import Testing
@testable import Speculation

@Suite struct ChildIndexTests {
    /// The table answers exactly what a dictionary of the same insertions answers, through growth.
    @Test func answersLikeADictionary() {
        var rng = SystemRandomNumberGenerator()
        var index = ChildIndex()
        var reference: [UInt64: Int32] = [:]
        for child in 0..<5000 {
            let parent = Int32.random(in: 0..<Int32(max(1, child)), using: &rng)
            let token = Int32.random(in: 0..<4096, using: &rng)
            guard reference[ChildIndex.key(parent, token)] == nil else { continue }
            reference[ChildIndex.key(parent, token)] = Int32(child)
            index.insert(parent: parent, token: token, child: Int32(child))
        }
        for (key, child) in reference {
            #expect(index[Int32(truncatingIfNeeded: key >> 32), Int32(truncatingIfNeeded: key)] == child)
        }
        for _ in 0..<2000 {
            let parent = Int32.random(in: 0..<5000, using: &rng), token = Int32.random(in: 0..<4096, using: &rng)
            #expect(index[parent, token] == reference[ChildIndex.key(parent, token)])
        }
    }

    @Test func emptiedTablesStayCorrect() {
        var index = ChildIndex(capacity: 3)
        for t in 0..<100 { index.insert(parent: 0, token: Int32(t), child: Int32(t + 1)) }
        #expect(index[0, 99] == 100)
        index.removeAll()
        #expect(index[0, 99] == nil)
        index.insert(parent: 7, token: 9, child: 3)
        #expect(index[7, 9] == 3 && index[9, 7] == nil)
    }

    /// A trie that indexes its wide nodes' children finds exactly what one scanning sibling lists finds,
    /// before and after nodes become wide, with the same node ids, and after a reset.
    @Test func anIndexedTrieAnswersLikeAScanningOne() {
        var rng = SystemRandomNumberGenerator()
        var indexed = CountTrie(indexed: true), scanning = CountTrie()
        for round in 0..<2 {
            for _ in 0..<3000 {
                // Short paths over a small alphabet near the root make wide nodes; deeper ones stay narrow.
                let path = (0..<Int.random(in: 1...6, using: &rng)).map { depth in
                    Int32.random(in: 0..<(depth < 2 ? 40 : 3), using: &rng)
                }
                indexed.insert(path)
                scanning.insert(path)
            }
            #expect(indexed.nodeCount == scanning.nodeCount)
            #expect(scanning.largestChildWeight(of: CountTrie.root) > 0)
            var differences = 0
            for node in 0..<Int32(scanning.nodeCount) {
                for token in Int32(0)..<41 where indexed.child(of: node, token: token) != scanning.child(of: node, token: token) {
                    differences += 1
                }
                if indexed.weight(node) != scanning.weight(node) { differences += 1 }
            }
            #expect(differences == 0)
            if round == 0 {
                indexed.reset()
                scanning.reset()
            }
        }
    }
}
