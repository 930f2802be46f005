import TestRandom
import Testing
@testable import Speculation

@Suite struct AcceptanceTests {
    //        root
    //       /    \
    //   0:10     1:11
    //    /  \
    //  2:12 3:13
    //   |
    //  4:14
    let tree = DraftTree(tokens: [10, 11, 12, 13, 14], parents: [-1, -1, 0, 0, 2])

    @Test func greedyFollowsTheArgmaxPath() {
        let argmax: [Int: Int32] = [0: 12, 1: 50, 2: 15, 3: 51, 4: 52]
        let r = Acceptance.greedy(tree: tree, argmaxAtRoot: 10) { argmax[$0]! }
        #expect(r.path == [0, 2] && r.bonus == 15)
        let full = Acceptance.greedy(tree: tree, argmaxAtRoot: 10) { [0: 12, 2: 14, 4: 77][$0]! }
        #expect(full.path == [0, 2, 4] && full.bonus == 77)
        let none = Acceptance.greedy(tree: tree, argmaxAtRoot: 99) { _ in Issue.record("no node to ask"); return 0 }
        #expect(none.path.isEmpty && none.bonus == 99)
        let second = Acceptance.greedy(tree: tree, argmaxAtRoot: 11) { [1: 3][$0]! }
        #expect(second.path == [1] && second.bonus == 3)
        #expect(Acceptance.greedy(tree: DraftTree(), argmaxAtRoot: 4) { _ in 0 } == ([], 4))
    }

    /// Pearson's chi-square of observed counts against expected probabilities (categories with p > 0).
    func chiSquare(_ counts: [Int], _ p: [Double]) -> (statistic: Double, degrees: Int) {
        let n = Double(counts.reduce(0, +))
        var x = 0.0, k = 0
        for (c, q) in zip(counts, p) {
            if q == 0 { #expect(c == 0); continue }
            x += (Double(c) - n * q) * (Double(c) - n * q) / (n * q)
            k += 1
        }
        return (x, k - 1)
    }

    @Test func samplingEmitsExactlyTheTargetDistribution() {
        // Vocabulary of 6. The root's children are a likely token (3), an unlikely one (0) and an
        // impossible one (5); below token 3 two more candidates.
        let tree = DraftTree(tokens: [3, 0, 5, 1, 4], parents: [-1, -1, -1, 0, 0])
        let atRoot: [Float] = [0.05, 0.4, 0.1, 0.3, 0.15, 0]
        let afterThree: [Float] = [0.5, 0.02, 0.08, 0.1, 0.3, 0]  // unnormalised is allowed: sums to 1 here
        let elsewhere: [Float] = [1, 1, 1, 1, 1, 1]
        func distribution(_ node: Int) -> [Float] {
            node == -1 ? atRoot : node == 0 ? afterThree : elsewhere
        }
        var rng = SplitMix64(seed: 42)
        var first = [Int](repeating: 0, count: 6)
        var secondAfterThree = [Int](repeating: 0, count: 6)
        let trials = 200_000
        for _ in 0..<trials {
            let r = Acceptance.sample(tree: tree, distribution: distribution, using: &rng)
            let emitted = r.path.map { tree.tokens[$0] } + [r.bonus]
            first[Int(emitted[0])] += 1
            if emitted[0] == 3 { secondAfterThree[Int(emitted[1])] += 1 }
        }
        // Critical values at p = 0.001: 18.47 (4 degrees), 20.52 (5 degrees).
        let a = chiSquare(first, atRoot.map(Double.init))
        #expect(a.degrees == 4 && a.statistic < 18.47, "first token counts \(first)")
        let b = chiSquare(secondAfterThree, afterThree.map(Double.init))
        #expect(b.degrees == 4 && b.statistic < 18.47, "second token counts \(secondAfterThree)")
        // A wrong rule (always accept the first child with its probability, no residual) would fail:
        // the likely child alone is emitted 30% of the time, exactly as p says.
        #expect(abs(Double(first[3]) / Double(trials) - 0.3) < 0.005)
    }

    @Test func samplingWithAnEmptyTreeSamplesTheRoot() {
        var rng = SplitMix64(seed: 7)
        var counts = [0, 0, 0]
        for _ in 0..<30_000 {
            let r = Acceptance.sample(tree: DraftTree(), distribution: { _ in [2, 0, 1] }, using: &rng)
            #expect(r.path.isEmpty)
            counts[Int(r.bonus)] += 1
        }
        let x = chiSquare(counts, [2.0 / 3, 0, 1.0 / 3])
        #expect(x.statistic < 10.83, "\(counts)")
    }

    @Test func treeHelpers() {
        #expect(tree.children(of: -1) == [0, 1] && tree.children(of: 0) == [2, 3] && tree.children(of: 4) == [])
        #expect(tree.depths == [1, 1, 2, 2, 3] && tree.maxDepth == 3)
        #expect(tree.isAncestor(0, of: 4) && tree.isAncestor(4, of: 4) && !tree.isAncestor(1, of: 4))
        #expect(tree.child(of: 0, token: 13) == 3 && tree.child(of: 1, token: 13) == nil)
    }
}
