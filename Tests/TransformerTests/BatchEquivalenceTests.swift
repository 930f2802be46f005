import Testing
import Transformer

/// A batch of sequences gives each sequence the logits it gets alone; chunked prefill equals whole
/// prefill; tree-masked nodes equal their paths run as plain chains.
@Suite("Batches, chunks and trees")
struct BatchEquivalenceTests {
    static let prompts: [[Int]] = [
        [0, 474, 286, 199, 199, 520, 1031, 63, 831, 8, 477, 287],
        [0, 2046, 17, 309, 1200, 14],
        Array([0, 199, 520, 659, 8, 65, 29, 386, 12, 961, 29, 386, 12, 961, 772, 29, 386, 12, 1147, 29, 40, 41].prefix(22)),
    ]

    func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test("sequences prefilled together equal each prefilled alone")
    func batchEqualsAlone() throws {
        let harness = try ModelHarness(path: FixturePaths.bundledModel)
        let alone = Self.prompts.map { harness.logitsAtEveryPosition($0).logits }

        var batch = Batch()
        let sequences = Self.prompts.map { _ in harness.cache.createSequence() }
        for (prompt, sequence) in zip(Self.prompts, sequences) {
            batch.appendChain(prompt, sequence: sequence, startPosition: 0, logits: .all)
        }
        #expect(harness.model.forward(batch, cache: harness.cache) == .ok(logitRows: batch.count))
        var row = 0
        for (index, prompt) in Self.prompts.enumerated() {
            for position in prompt.indices {
                let difference = maxDifference(Array(harness.model.logits(row: row)), alone[index][position])
                #expect(difference <= 1e-5, "prompt \(index) position \(position): \(difference)")
                row += 1
            }
        }
    }

    @Test("chunked prefill equals whole prefill", arguments: [1, 5, 7])
    func chunkedPrefill(chunk: Int) throws {
        let harness = try ModelHarness(path: FixturePaths.bundledModel)
        let prompt = Self.prompts[2]
        let whole = harness.logitsAtEveryPosition(prompt).logits
        let chunked = harness.logitsAtEveryPosition(prompt, chunk: chunk).logits
        for position in prompt.indices {
            #expect(maxDifference(whole[position], chunked[position]) <= 1e-5, "position \(position)")
        }
    }

    @Test("a decode token and another sequence's prompt chunk share a step exactly")
    func mixedDecodeAndPrefill() throws {
        let harness = try ModelHarness(path: FixturePaths.bundledModel)
        let a = Self.prompts[0]
        let b = Self.prompts[1]
        let expectedA = harness.logitsAtEveryPosition(a).logits
        let expectedB = harness.logitsAtEveryPosition(b).logits

        let cache = harness.cache
        let sequenceA = cache.createSequence()
        var batch = Batch()
        batch.appendChain(a.dropLast(), sequence: sequenceA, startPosition: 0, logits: .none)
        #expect(harness.model.forward(batch, cache: cache) == .ok(logitRows: 0))
        cache.commit(sequenceA, count: a.count - 1)

        let sequenceB = cache.createSequence()
        batch.removeAll()
        batch.appendChain([a.last!], sequence: sequenceA, startPosition: a.count - 1)
        batch.appendChain(b, sequence: sequenceB, startPosition: 0, logits: .all)
        #expect(harness.model.forward(batch, cache: cache) == .ok(logitRows: 1 + b.count))
        #expect(maxDifference(Array(harness.model.logits(row: 0)), expectedA.last!) <= 1e-5)
        for position in b.indices {
            #expect(maxDifference(Array(harness.model.logits(row: 1 + position)), expectedB[position]) <= 1e-5)
        }
    }

    /// Context, then a tree:      r
    ///                          /   \
    ///                         a     b
    ///                         |     |
    ///                         c     d
    static let tree: [(token: Int, parent: Int)] = [(520, -1), (1031, 0), (659, 0), (63, 1), (8, 2)]

    /// Batch index path from the root to `node`.
    static func path(to node: Int) -> [Int] {
        var path: [Int] = []
        var current = node
        while current >= 0 {
            path.insert(current, at: 0)
            current = tree[current].parent
        }
        return path
    }

    /// The bundled model with `prompts[0]` prefilled and committed in a new sequence.
    static func committedContext() throws -> (ModelHarness, [Int], Int) {
        let harness = try ModelHarness(path: FixturePaths.bundledModel)
        let sequence = harness.cache.createSequence()
        var batch = Batch()
        batch.appendChain(prompts[0], sequence: sequence, startPosition: 0, logits: .none)
        _ = harness.model.forward(batch, cache: harness.cache)
        harness.cache.commit(sequence, count: prompts[0].count)
        return (harness, prompts[0], sequence)
    }

    @Test("every tree node's logits equal its path run as a chain")
    func treeMask() throws {
        let (harness, context, sequence) = try Self.committedContext()
        let cache = harness.cache
        var batch = Batch()

        batch.removeAll()
        for (index, node) in Self.tree.enumerated() {
            let depth = Self.path(to: index).count - 1
            batch.append(token: node.token, position: context.count + depth, sequence: sequence, parent: node.parent,
                         cacheSlot: context.count + index, wantsLogits: true)
        }
        #expect(harness.model.forward(batch, cache: cache) == .ok(logitRows: Self.tree.count))
        let treeLogits = (0..<Self.tree.count).map { Array(harness.model.logits(row: $0)) }

        for node in Self.tree.indices {
            let chain = context + Self.path(to: node).map { Self.tree[$0].token }
            let expected = harness.logitsAtEveryPosition(chain).logits.last!
            #expect(maxDifference(treeLogits[node], expected) <= 1e-5, "node \(node)")
        }
    }

    @Test("accepting a tree path keeps exactly that path's cache entries")
    func acceptPath() throws {
        let (harness, context, sequence) = try Self.committedContext()
        let cache = harness.cache
        var batch = Batch()
        batch.removeAll()
        for (index, node) in Self.tree.enumerated() {
            batch.append(token: node.token, position: context.count + Self.path(to: index).count - 1,
                         sequence: sequence, parent: node.parent, cacheSlot: context.count + index, wantsLogits: false)
        }
        _ = harness.model.forward(batch, cache: cache)

        let accepted = Self.path(to: 4)   // r, b, d
        cache.acceptPath(sequence, slots: accepted.map { context.count + $0 })
        #expect(cache.length(of: sequence) == context.count + 3)
        let next = 281
        batch.removeAll()
        batch.appendChain([next], sequence: sequence, startPosition: cache.length(of: sequence))
        #expect(harness.model.forward(batch, cache: cache) == .ok(logitRows: 1))
        let continued = Array(harness.model.logits(row: 0))

        let chain = context + accepted.map { Self.tree[$0].token } + [next]
        let expected = harness.logitsAtEveryPosition(chain).logits.last!
        #expect(maxDifference(continued, expected) <= 1e-5)
    }
}
