/// Builds SSSD draft trees from a request's own n-gram statistics and the datastore.
///
/// Best-first: the tree grows by the candidate with the highest path probability (the product of
/// the estimated next-token probabilities along its path) until the budget is spent, so the tree is
/// deep where one continuation dominates and wide where the mass is split. Scratch buffers live in
/// the drafter and are reused, so a draft allocates nothing once they have grown. Not thread-safe:
/// use one drafter per thread (they can share the datastore).
public struct Drafter: Sendable {
    /// The corpus source, or nil for request statistics only.
    public let datastore: Datastore?
    /// Constants and policies.
    public var configuration: DrafterConfiguration
    /// What the last draft's datastore lookup found.
    public private(set) var lastLookup = DatastoreLookup()

    private var datastoreTrie = CountTrie(capacity: 1024)
    private var prefixRanges = PrefixRangeCache()
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
        assert(state.isCurrent, "catch the request's statistics up before drafting")
        guard budget > 0, state.tokenCount > 0 else { return }
        let c = configuration
        let key = state.lastTokens(c.queryLength)
        if let datastore {
            lastLookup = datastore.continuations(
                of: key, depth: min(c.datastoreDepth, c.maxDepth), maxSamples: c.maxSamples, backoff: c.backoff,
                cache: &prefixRanges, into: &datastoreTrie)
        } else {
            lastLookup = DatastoreLookup()
        }
        seedRoot(state: state)
        while tree.count < budget, let index = work.pop() {
            let cand = work.candidates[Int(index)]
            if cand.probability < c.minimumPathProbability || cand.probability <= 0 { break }
            let node: Int
            if c.combination == .reference, let existing = tree.child(of: Int(cand.parent), token: cand.token) {
                node = existing  // the reference's merge: a later source only adds children
            } else {
                // fanOut[i + 1] counts node i's children; fanOut[0] the root's.
                guard fanOut[Int(cand.parent) + 1] < c.maxFanOut else { continue }
                node = tree.append(token: cand.token, parent: Int(cand.parent), probability: cand.probability,
                                   sources: cand.sources)
                fanOut[Int(cand.parent) + 1] += 1
                fanOut.append(0)
            }
            if Int(cand.depth) < c.maxDepth {
                expand(state: state, experts: Int(cand.expertStart), count: Int(cand.expertCount),
                       atRoot: false, parent: Int32(node), probability: cand.probability, depth: cand.depth + 1)
            }
        }
    }

    /// Puts the root's experts in the pool and its children in the heap: every request-trie match
    /// (suffix lengths promptQueryLength ... 1) with the prompt weight 0.6 and the datastore with 1.
    private mutating func seedRoot(state: RequestDraftState) {
        let c = configuration
        var m = min(c.promptQueryLength, state.windowLength - 1)
        while m >= 1 {
            if let node = state.suffixNode(length: m), state.continuationWeight(of: node) > 0 {
                work.experts.append(Expert(source: Expert.promptSource, node: node, weight: c.promptFirstWeight,
                                           discount: c.promptDiscount(matchLength: m)))
            }
            m -= 1
        }
        if datastoreTrie.weight(CountTrie.root) > 0, lastLookup.samples > 0 {
            work.experts.append(Expert(source: Expert.datastoreSource, node: CountTrie.root, weight: 1, discount: 1))
        }
        switch c.combination {
        case .noisyOr, .sum:
            expand(state: state, experts: 0, count: work.experts.count, atRoot: true, parent: -1,
                   probability: 1, depth: 1)
        case .reference:
            for e in 0..<work.experts.count {
                expand(state: state, experts: e, count: 1, atRoot: true, parent: -1, probability: 1, depth: 1)
            }
        }
    }

    /// Pushes the best children of a tree position whose sources are experts[start ..< start + count].
    /// With `.noisyOr` / `.sum` an expert's weight is its own path probability; with `.reference`
    /// it is relative to the position's `probability` (each candidate has one expert).
    private mutating func expand(state: RequestDraftState, experts start: Int, count: Int, atRoot: Bool,
                                 parent: Int32, probability: Float, depth: Int32) {
        let absolute = configuration.combination != .reference
        work.beginGather()
        for e in 0..<count {
            let expert = work.experts[start + e]
            let prompt = expert.source == Expert.promptSource
            let total = prompt ? state.continuationWeight(of: expert.node) : datastoreTrie.weight(expert.node)
            guard total > 0 else { continue }
            let denominator = total + (prompt ? configuration.promptPseudoCount : configuration.datastorePseudoCount)
            let scale = expert.weight * (atRoot ? 1 : expert.discount) / denominator
            if prompt {
                gatherChildren(of: expert.node, in: state.trie, scale: scale, fromPrompt: true, expert: e, count: count)
            } else {
                gatherChildren(of: expert.node, in: datastoreTrie, scale: scale, fromPrompt: false, expert: e, count: count)
            }
        }
        work.combineSources(configuration.combination)
        let floor = absolute ? configuration.minimumPathProbability
            : configuration.minimumPathProbability / max(probability, .leastNormalMagnitude)
        work.chooseBest(configuration.maxFanOut, floor: floor)
        for g in work.chosen {
            let g = Int(g)
            let total = work.gatherTotal[g]
            let expertStart = work.experts.count
            for e in 0..<count where work.gatherChild[g * count + e] != CountTrie.none {
                var child = work.experts[start + e]
                child.node = work.gatherChild[g * count + e]
                child.weight = absolute ? work.gatherPart[g * count + e] : 1
                work.experts.append(child)
            }
            let sources = (work.gatherPrompt[g] > 0 ? DraftTree.fromRequest : 0)
                | (work.gatherData[g] > 0 ? DraftTree.fromDatastore : 0)
            work.push(Candidate(token: work.gatherToken[g], probability: absolute ? total : probability * total,
                                parent: parent,
                                depth: depth, expertStart: Int32(expertStart),
                                expertCount: Int32(work.experts.count - expertStart), sources: sources))
        }
    }

    private mutating func gatherChildren(of node: Int32, in trie: CountTrie, scale: Float, fromPrompt: Bool,
                                         expert: Int, count: Int) {
        var c = trie.firstChild[Int(node)]
        while c != CountTrie.none {
            work.gather(token: trie.tokens[Int(c)], node: c, part: scale * trie.weights[Int(c)],
                        fromPrompt: fromPrompt, expert: expert, of: count)
            c = trie.nextSibling[Int(c)]
        }
    }
}
