/// Builds SSSD draft trees from a request's own n-gram statistics and the datastore.
///
/// Best-first: the tree grows by the candidate with the highest path probability (the product of
/// the estimated next-token probabilities along its path) until the budget is spent, so the tree is
/// deep where one continuation dominates and wide where the mass is split. Scratch buffers live in
/// the drafter and are reused, so a draft allocates nothing once they have grown. Not thread-safe:
/// use one drafter per thread (they can share the datastore).
public struct Drafter {
    /// The corpus source, or nil for request statistics only.
    public let datastore: Datastore?
    /// Constants and policies.
    public var configuration: DrafterConfiguration
    /// What the last draft's datastore lookup found.
    public private(set) var lastLookup = DatastoreLookup()

    private var datastoreTrie = CountTrie(capacity: 1024)
    private var work = DraftWorkspace()
    private var fanOut: [Int32] = []

    public init(datastore: Datastore?, configuration: DrafterConfiguration = .init()) {
        self.datastore = datastore
        self.configuration = configuration
    }

    /// Replaces `tree` with a draft tree of at most `budget` tokens (the root not counted) hanging
    /// from the last token of `state`'s stream (prompt + accepted output): the tokens most likely to
    /// follow, each with its path probability.
    public mutating func draft(state: RequestDraftState, budget: Int, into tree: inout DraftTree) {
        tree.removeAll()
        work.reset()
        fanOut.removeAll(keepingCapacity: true)
        fanOut.append(0)
        guard budget > 0, state.tokenCount > 0 else { return }
        let c = configuration
        let key = state.lastTokens(c.queryLength)
        if let datastore {
            lastLookup = datastore.continuations(
                of: key, depth: c.maxDepth, maxSamples: c.maxSamples, backoff: c.backoff, into: &datastoreTrie)
        } else {
            lastLookup = DatastoreLookup()
        }
        seedRoot(state: state, key: key.count)
        while tree.count < budget, let index = work.pop() {
            let cand = work.candidates[Int(index)]
            if cand.probability < c.minimumPathProbability || cand.probability <= 0 { break }
            let node: Int
            if c.combination == .reference, let existing = tree.child(of: Int(cand.parent), token: cand.token) {
                node = existing  // the reference's merge: a later source only adds children
            } else {
                // fanOut[i + 1] counts node i's children; fanOut[0] the root's.
                guard fanOut[Int(cand.parent) + 1] < c.maxFanOut else { continue }
                node = tree.append(token: cand.token, parent: Int(cand.parent), probability: cand.probability)
                fanOut[Int(cand.parent) + 1] += 1
                fanOut.append(0)
            }
            if Int(cand.depth) < c.maxDepth {
                expand(state: state, experts: Int(cand.expertStart), count: Int(cand.expertCount),
                       atRoot: false, parent: Int32(node), probability: cand.probability, depth: cand.depth + 1)
            }
        }
    }

    /// Puts the root's experts in the pool and its children in the heap. Request-trie matches of
    /// every length share the prompt weight (0.6) by Witten-Bell interpolation, longest first: a
    /// match seen n times with d distinct continuations keeps n / (n + d) of what is left. The
    /// datastore gets the rest of the mass (all of it when the request has no match).
    private mutating func seedRoot(state: RequestDraftState, key: Int) {
        let c = configuration
        var mass: Float = 1
        var promptWeight: Float = 0
        var m = min(key, state.windowLength - 1)
        while m >= 1 {
            if let node = state.suffixNode(length: m) {
                let seen = state.continuationWeight(of: node)
                if seen > 0 {
                    var distinct = 0
                    state.trie.forEachChild(of: node) { _ in distinct += 1 }
                    let lambda = c.combination == .reference ? 1 : seen / (seen + Float(distinct))
                    let w = c.promptFirstWeight * mass * lambda
                    if c.combination == .mixture { mass *= 1 - lambda }
                    promptWeight += w
                    work.experts.append(Expert(source: Expert.promptSource, node: node, weight: w,
                                               discount: c.promptDiscount(matchLength: m)))
                }
            }
            m -= 1
        }
        // The interpolation only splits the prompt's share among match lengths; the share itself
        // stays the reference's calibrated first-level weight.
        if c.combination == .mixture, promptWeight > 0 {
            for e in work.experts.indices { work.experts[e].weight *= c.promptFirstWeight / promptWeight }
            promptWeight = c.promptFirstWeight
        }
        if datastoreTrie.weight(CountTrie.root) > 0, lastLookup.samples > 0 {
            let w = c.combination == .mixture ? 1 - promptWeight : 1
            work.experts.append(Expert(source: Expert.datastoreSource, node: CountTrie.root, weight: w, discount: 1))
        }
        switch c.combination {
        case .mixture:
            expand(state: state, experts: 0, count: work.experts.count, atRoot: true, parent: -1,
                   probability: 1, depth: 1)
        case .reference:
            for e in 0..<work.experts.count {
                expand(state: state, experts: e, count: 1, atRoot: true, parent: -1, probability: 1, depth: 1)
            }
        }
    }

    /// Pushes the best children of a tree position whose mixture is experts[start ..< start + count].
    private mutating func expand(state: RequestDraftState, experts start: Int, count: Int, atRoot: Bool,
                                 parent: Int32, probability: Float, depth: Int32) {
        work.beginGather()
        for e in 0..<count {
            let expert = work.experts[start + e]
            let prompt = expert.source == Expert.promptSource
            let total = prompt ? state.continuationWeight(of: expert.node) : datastoreTrie.weight(expert.node)
            guard total > 0 else { continue }
            let scale = expert.weight * (atRoot ? 1 : expert.discount) / total
            if prompt {
                gatherChildren(of: expert.node, in: state.trie, scale: scale, expert: e, count: count)
            } else {
                gatherChildren(of: expert.node, in: datastoreTrie, scale: scale, expert: e, count: count)
            }
        }
        let floor = configuration.minimumPathProbability / max(probability, .leastNormalMagnitude)
        work.chooseBest(configuration.maxFanOut, floor: floor)
        for g in work.chosen {
            let g = Int(g)
            let total = work.gatherTotal[g]
            let expertStart = work.experts.count
            for e in 0..<count where work.gatherChild[g * count + e] != CountTrie.none {
                var child = work.experts[start + e]
                child.node = work.gatherChild[g * count + e]
                child.weight = work.gatherPart[g * count + e] / total  // posterior share below this node
                work.experts.append(child)
            }
            work.push(Candidate(token: work.gatherToken[g], probability: probability * total, parent: parent,
                                depth: depth, expertStart: Int32(expertStart),
                                expertCount: Int32(work.experts.count - expertStart)))
        }
    }

    private mutating func gatherChildren(of node: Int32, in trie: CountTrie, scale: Float, expert: Int, count: Int) {
        var c = trie.firstChild[Int(node)]
        while c != CountTrie.none {
            work.gather(token: trie.tokens[Int(c)], node: c, part: scale * trie.weights[Int(c)],
                        expert: expert, of: count)
            c = trie.nextSibling[Int(c)]
        }
    }
}
