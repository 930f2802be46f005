import TestRandom
import Testing
@testable import Speculation

@Suite struct DrafterTests {
    /// Checks the structural promises of a draft tree.
    func expectWellFormed(_ tree: DraftTree, budget: Int, configuration c: DrafterConfiguration,
                          _ note: String) {
        #expect(tree.count <= budget, "\(note): \(tree.count) > budget \(budget)")
        var fanOut = [Int: Int]()
        var seen = Set<[Int32]>()
        for i in 0..<tree.count {
            let parent = Int(tree.parents[i])
            #expect(parent >= -1 && parent < i, "\(note): parent \(parent) of node \(i)")
            fanOut[parent, default: 0] += 1
            #expect(Int(tree.depths[i]) == (parent < 0 ? 1 : Int(tree.depths[parent]) + 1))
            #expect(Int(tree.depths[i]) <= c.maxDepth)
            #expect(seen.insert([Int32(parent), tree.tokens[i]]).inserted, "\(note): duplicate sibling")
            let p = tree.probabilities[i]
            #expect(p > 0 && p <= 1.0001, "\(note): probability \(p)")
            if parent >= 0 { #expect(p <= tree.probabilities[parent] * 1.0001, "\(note): path probability grew") }
        }
        #expect(fanOut.values.allSatisfy { $0 <= c.maxFanOut }, "\(note): fan-out \(fanOut)")
    }

    @Test(arguments: [SourceCombination.noisyOr, .sum, .reference])
    func treesRespectBudgetFanOutAndOrder(combination: SourceCombination) throws {
        var rng = SplitMix64(seed: 11)
        let corpus = (0..<60).map { _ in randomTokens(count: 80, alphabet: 7, rng: &rng).map { $0 + 1 } }
        let store = try Datastore.build(documents: corpus, vocabularySize: 8, separator: 0)
        var c = DrafterConfiguration()
        c.combination = combination
        c.maxFanOut = 3
        c.maxDepth = 5
        var drafter = Drafter(datastore: store, configuration: c)
        var tree = DraftTree()
        for seed in 0..<40 {
            var r = SplitMix64(seed: UInt64(seed))
            let state = RequestDraftState(prompt: randomTokens(count: 30 + seed, alphabet: 7, rng: &r).map { $0 + 1 })
            for budget in [1, 2, 7, 15, 40] {
                drafter.draft(state: state, budget: budget, into: &tree)
                expectWellFormed(tree, budget: budget, configuration: c, "seed \(seed) budget \(budget)")
                if budget <= 15 { #expect(tree.count == budget, "a rich corpus fills small budgets") }
            }
        }
    }

    @Test func bothSourcesProposingATokenMakeOneNodeWithSummedProbability() throws {
        // Corpus: after "1 2 3 4" comes 5 half of the time and 6 the other half.
        let corpus: [[Int32]] = Array(repeating: [1, 2, 3, 4, 5, 7], count: 10) + Array(repeating: [1, 2, 3, 4, 6, 8], count: 10)
        let store = try Datastore.build(documents: corpus, vocabularySize: 10, separator: 0)
        // The request: "1 2 3 4" was followed by 5 before, and the stream ends in "1 2 3 4".
        let state = RequestDraftState(prompt: [1, 2, 3, 4, 5, 9, 1, 2, 3, 4])
        var tree = DraftTree()
        var exact = DrafterConfiguration()
        exact.datastorePseudoCount = 0  // raw frequencies, for exact numbers
        var ours = Drafter(datastore: store, configuration: exact)
        ours.draft(state: state, budget: 8, into: &tree)
        let five = try #require(tree.child(of: -1, token: 5))
        let six = try #require(tree.child(of: -1, token: 6))
        #expect(tree.children(of: -1).count == 2)
        // Request trie 0.6 · 1, datastore 0.5: noisy-or 1 - 0.4 · 0.5.
        #expect(abs(tree.probabilities[five] - 0.8) < 1e-4)
        #expect(abs(tree.probabilities[six] - 0.5) < 1e-4)
        #expect(tree.sources[five] == DraftTree.fromRequest | DraftTree.fromDatastore)
        #expect(tree.sources[six] == DraftTree.fromDatastore)

        var reference = Drafter(datastore: store, configuration: .reference)
        var referenceTree = DraftTree()
        reference.draft(state: state, budget: 4, into: &referenceTree)
        let refFive = try #require(referenceTree.child(of: -1, token: 5))
        #expect(referenceTree.children(of: -1).filter { referenceTree.tokens[$0] == 5 }.count == 1)
        #expect(referenceTree.probabilities[refFive] <= 0.6 + 1e-4)  // max of 0.6 · 1 and 0.5, not their sum
        #expect(tree.probabilities[five] > referenceTree.probabilities[refFive])
    }

    @Test func datastoreAloneDraftsTheCorpusContinuation() throws {
        let corpus: [[Int32]] = Array(repeating: [1, 2, 3, 4, 5, 6, 7, 8, 9], count: 5)
        let store = try Datastore.build(documents: corpus, vocabularySize: 10, separator: 0)
        var exact = DrafterConfiguration()
        exact.datastorePseudoCount = 0
        var drafter = Drafter(datastore: store, configuration: exact)
        var tree = DraftTree()
        drafter.draft(state: RequestDraftState(prompt: [0, 1, 2, 3]), budget: 15, into: &tree)
        // A single chain, stopped at the document's end; no budget wasted on nothing.
        #expect(tree.tokens == [4, 5, 6, 7, 8, 9])
        #expect(tree.parents == [-1, 0, 1, 2, 3, 4])
        #expect(abs(tree.expectedAcceptedLength - 6) < 1e-3)
        // With the default pseudo-count each level rests on 20 hits: P = 20 / 21 per level.
        var shrunk = Drafter(datastore: store)
        shrunk.draft(state: RequestDraftState(prompt: [0, 1, 2, 3]), budget: 15, into: &tree)
        #expect(tree.tokens == [4, 5, 6, 7, 8, 9])
        #expect(abs(tree.probabilities[1] - (20.0 / 21) * (20.0 / 21)) < 1e-4)
        #expect(drafter.lastLookup.longestMatch == 4)
    }

    @Test func requestStatisticsAloneDraftAndDiscount() throws {
        var drafter = Drafter(datastore: nil)
        var tree = DraftTree()
        let state = RequestDraftState(prompt: [5, 6, 7, 8, 9, 10, 11, 1, 2, 5, 6])
        drafter.draft(state: state, budget: 3, into: &tree)
        #expect(tree.tokens == [7, 8, 9])
        // First level: the prompt weight 0.6; below it the better of the 2-token match's discount
        // (0.8) and the 1-token match's (0.7).
        #expect(abs(tree.probabilities[0] - 0.6) < 1e-4)
        #expect(abs(tree.probabilities[1] - 0.6 * 0.8) < 1e-4)
        drafter.draft(state: RequestDraftState(prompt: [1, 2, 3]), budget: 5, into: &tree)
        #expect(tree.isEmpty)
        drafter.draft(state: state, budget: 0, into: &tree)
        #expect(tree.isEmpty)
    }

    @Test func minimumPathProbabilityStopsEarly() throws {
        var c = DrafterConfiguration()
        c.minimumPathProbability = 0.5
        var drafter = Drafter(datastore: nil, configuration: c)
        var tree = DraftTree()
        drafter.draft(state: RequestDraftState(prompt: [5, 6, 7, 8, 9, 10, 11, 1, 2, 5, 6]), budget: 10, into: &tree)
        #expect(tree.count == 1)
    }
}
