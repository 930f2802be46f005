import Testing
@testable import Speculation

@Suite struct RequestDraftStateTests {
    @Test func countTrieWeightsAreEmpiricalConditionals() {
        var trie = CountTrie()
        trie.insert([1, 2, 3])
        trie.insert([1, 2, 4])
        trie.insert([1, 5])
        #expect(trie.weight(CountTrie.root) == 3)
        let n1 = trie.walk([1])!
        #expect(trie.weight(n1) == 3)
        let n12 = trie.walk([1, 2])!
        #expect(trie.weight(n12) / trie.weight(n1) == Float(2) / 3)
        #expect(trie.weight(trie.walk([1, 2, 4])!) / trie.weight(n12) == 0.5)
        #expect(trie.walk([2]) == nil)
        trie.reset()
        #expect(trie.nodeCount == 1 && trie.weight(CountTrie.root) == 0)
    }

    @Test func nextTokenProbabilitiesCountEveryEarlierOccurrence() throws {
        // "a b c" twice followed by d, once by e; the stream ends in "a b c" (next token unknown).
        let a: Int32 = 1, b: Int32 = 2, c: Int32 = 3, d: Int32 = 4, e: Int32 = 5
        let state = RequestDraftState(prompt: [a, b, c, d, a, b, c, d, a, b, c, e, a, b, c])
        let p = try #require(state.nextTokenProbabilities(after: [a, b, c]))
        #expect(p == [d: Float(2) / 3, e: Float(1) / 3])
        let q = try #require(state.nextTokenProbabilities(after: [c]))
        #expect(q == [d: Float(2) / 3, e: Float(1) / 3])
        let r = try #require(state.nextTokenProbabilities(after: [d]))
        #expect(r == [a: 1])
    }

    @Test func acceptedTokensArePredictableAtOnce() {
        var state = RequestDraftState(prompt: [7, 8, 9])
        #expect(state.nextTokenProbabilities(after: [9]) == nil)
        state.append(accepted: [7, 8])
        // "7 8" was followed by 9 once; the new "7 8" at the end has no continuation yet.
        #expect(state.nextTokenProbabilities(after: [7, 8]) == [9: 1])
        #expect(state.nextTokenProbabilities(after: [9]) == [7: 1])
        #expect(state.tokenCount == 5)
        #expect(Array(state.lastTokens(3)) == [9, 7, 8])
    }

    @Test func windowsAreCappedAtWindowLength() {
        let prompt: [Int32] = Array(1...12)
        let state = RequestDraftState(prompt: prompt, windowLength: 8)
        #expect(state.trie.walk(Array(1...8)) != nil)
        #expect(state.trie.walk(Array(1...9)) == nil)
        #expect(state.trie.walk(Array(5...12)) != nil)
        // Every window of up to 8 tokens, each counted once: 12 + 11 + ... + 5 nodes.
        #expect(state.trie.nodeCount == 1 + (5...12).reduce(0, +))
        #expect(state.trie.weight(CountTrie.root) == 12)
    }

    /// Counting later, in one go, gives exactly the statistics counting token by token gives.
    @Test func deferredCountingEqualsCountingAtOnce() {
        var rng = SystemRandomNumberGenerator()
        let prompt = (0..<60).map { _ in Int32.random(in: 1...6, using: &rng) }
        let output = (0..<40).map { _ in Int32.random(in: 1...6, using: &rng) }
        var now = RequestDraftState(prompt: prompt, windowLength: 8)
        var later = RequestDraftState(deferring: prompt, windowLength: 8)
        #expect(!later.isCurrent && later.tokenCount == 0)
        for (i, token) in output.enumerated() {
            now.append(token)
            later.appendLater(token)
            // Catch up at irregular points, as drafting steps come.
            if i % 7 == 3 { later.catchUp() }
        }
        later.catchUp()
        #expect(later.isCurrent)
        #expect(later.tokenCount == now.tokenCount && later.trie.nodeCount == now.trie.nodeCount)
        #expect(Array(later.lastTokens(8)) == Array(now.lastTokens(8)))
        for length in 1..<8 {
            let context = Array(now.lastTokens(length))
            #expect(later.nextTokenProbabilities(after: context) == now.nextTokenProbabilities(after: context))
            #expect(later.suffixNode(length: length).map { later.continuationWeight(of: $0) }
                    == now.suffixNode(length: length).map { now.continuationWeight(of: $0) })
        }
    }
}
