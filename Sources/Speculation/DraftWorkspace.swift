/// One source's opinion at a tree position: a node of the request trie or of the datastore trie,
/// the probability of the path under that source (relative to the position's, for `.reference`)
/// and its per-level discount.
struct Expert {
    static let promptSource: UInt8 = 0
    static let datastoreSource: UInt8 = 1
    var source: UInt8
    var node: Int32
    var weight: Float
    var discount: Float
}

/// A possible tree node waiting in the heap.
struct Candidate {
    var token: Int32
    var probability: Float
    var parent: Int32
    var depth: Int32
    var expertStart: Int32
    var expertCount: Int32
    var sources: UInt8
}

/// The drafter's reusable scratch: expert and candidate pools, the heap, and the table that gathers
/// the children proposed at one tree position. Sized on first use, then only cleared.
struct DraftWorkspace {
    var experts: [Expert] = []
    var candidates: [Candidate] = []
    var heap: [Int32] = []
    /// Children of the tree node being expanded, by token: gathered[g] has token, total probability
    /// and, per parent expert e, the trie child and its contribution at g * expertCount + e.
    var gatherToken: [Int32] = []
    var gatherTotal: [Float] = []
    /// Best path probability of the child from the request trie / from the datastore.
    var gatherPrompt: [Float] = []
    var gatherData: [Float] = []
    var gatherChild: [Int32] = []
    var gatherPart: [Float] = []
    var chosen: [Int32] = []
    /// Open-addressing token → gather slot table; a stamp marks live entries so it never needs clearing.
    private var slotToken: [Int32]
    private var slotIndex: [Int32]
    private var slotStamp: [UInt32]
    private var stamp: UInt32 = 0
    static let tableSize = 1024
    /// Beyond this many distinct children the rarest extra ones are ignored (table stays half empty).
    static let maxGathered = tableSize / 2

    init() {
        slotToken = [Int32](repeating: 0, count: Self.tableSize)
        slotIndex = [Int32](repeating: 0, count: Self.tableSize)
        slotStamp = [UInt32](repeating: 0, count: Self.tableSize)
    }

    mutating func reset() {
        experts.removeAll(keepingCapacity: true)
        candidates.removeAll(keepingCapacity: true)
        heap.removeAll(keepingCapacity: true)
    }

    /// Starts gathering the children of one position.
    mutating func beginGather() {
        gatherToken.removeAll(keepingCapacity: true)
        gatherTotal.removeAll(keepingCapacity: true)
        gatherPrompt.removeAll(keepingCapacity: true)
        gatherData.removeAll(keepingCapacity: true)
        gatherChild.removeAll(keepingCapacity: true)
        gatherPart.removeAll(keepingCapacity: true)
        stamp &+= 1
        if stamp == 0 {
            for i in slotStamp.indices { slotStamp[i] = 0 }
            stamp = 1
        }
    }

    /// Adds expert `e`'s (of `expertCount`) child `node` with token `token` and contribution `part`.
    mutating func gather(token: Int32, node: Int32, part: Float, fromPrompt: Bool, expert e: Int, of expertCount: Int) {
        var h = Int((UInt32(bitPattern: token) &* 2_654_435_761) >> 22) & (Self.tableSize - 1)
        while slotStamp[h] == stamp, slotToken[h] != token { h = (h + 1) & (Self.tableSize - 1) }
        let g: Int
        if slotStamp[h] == stamp {
            g = Int(slotIndex[h])
        } else {
            guard gatherToken.count < Self.maxGathered else { return }
            g = gatherToken.count
            slotStamp[h] = stamp
            slotToken[h] = token
            slotIndex[h] = Int32(g)
            gatherToken.append(token)
            gatherTotal.append(0)
            gatherPrompt.append(0)
            gatherData.append(0)
            for _ in 0..<expertCount {
                gatherChild.append(CountTrie.none)
                gatherPart.append(0)
            }
        }
        gatherTotal[g] += part
        if fromPrompt { gatherPrompt[g] = max(gatherPrompt[g], part) } else { gatherData[g] = max(gatherData[g], part) }
        gatherChild[g * expertCount + e] = node
        gatherPart[g * expertCount + e] = part
    }

    /// Sets each gathered child's total to the two sources' combination: a token both propose
    /// scores higher than either alone.
    mutating func combineSources(_ rule: SourceCombination) {
        for g in gatherTotal.indices {
            let a = gatherPrompt[g], b = gatherData[g]
            switch rule {
            case .noisyOr: gatherTotal[g] = a + b - a * b
            case .sum: gatherTotal[g] = min(1, a + b)
            case .reference: break
            }
        }
    }

    /// Indices of the `k` gathered children with the highest total that is at least `floor`, best first.
    mutating func chooseBest(_ k: Int, floor: Float) {
        chosen.removeAll(keepingCapacity: true)
        for g in gatherToken.indices {
            let p = gatherTotal[g]
            guard p > 0, p >= floor else { continue }
            if chosen.count == k, let last = chosen.last, gatherTotal[Int(last)] >= p { continue }
            if chosen.count == k { chosen.removeLast() }
            var i = chosen.count
            chosen.append(Int32(g))
            while i > 0, gatherTotal[Int(chosen[i - 1])] < p {
                chosen[i] = chosen[i - 1]
                i -= 1
            }
            chosen[i] = Int32(g)
        }
    }

    // MARK: heap of candidate indices, highest probability first (shallower first on ties)

    private func before(_ a: Int32, _ b: Int32) -> Bool {
        let x = candidates[Int(a)], y = candidates[Int(b)]
        if x.probability != y.probability { return x.probability > y.probability }
        if x.depth != y.depth { return x.depth < y.depth }
        return a < b
    }

    mutating func push(_ candidate: Candidate) {
        candidates.append(candidate)
        var i = heap.count
        heap.append(Int32(candidates.count - 1))
        while i > 0 {
            let parent = (i - 1) / 2
            guard before(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Int32? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return top }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < heap.count, before(heap[l], heap[best]) { best = l }
            if r < heap.count, before(heap[r], heap[best]) { best = r }
            if best == i { break }
            heap.swapAt(i, best)
            i = best
        }
        return top
    }
}
