/// How the drafter combines its two sources into one tree.
public enum SourceCombination: Sendable, Equatable {
    /// Ours: every tree node holds a mixture of all the trie nodes (prompt suffix matches and the
    /// datastore) that reach it; a token proposed by several sources gets the sum of their weighted
    /// probabilities, and each source's weight below a node is its posterior share of that node.
    case mixture
    /// The reference's rule: each source pushes its own candidates; the first to claim a tree
    /// position creates the node and later arrivals only add their children; nothing is summed.
    case reference
}

/// The drafter's constants. Defaults: the reference's where it has them (query length 4, branch
/// length 8, 100 samples, prompt weight 0.6, discount 0.6 + 0.1·m).
public struct DrafterConfiguration: Sendable, Equatable {
    /// Most context tokens used as a lookup key, for the request trie and the datastore.
    public var queryLength = 4
    /// Deepest tree node (also how far datastore continuations are followed).
    public var maxDepth = 8
    /// Most children of one tree node.
    public var maxFanOut = 8
    /// Datastore hits sampled per key.
    public var maxSamples = 100
    /// Datastore back-off rule.
    public var backoff = BackoffPolicy.interpolated(residual: 0.05)
    /// Weight of the request trie at the first level (the reference's 0.6).
    public var promptFirstWeight: Float = 0.6
    /// How the sources are combined.
    public var combination = SourceCombination.mixture
    /// Nodes whose path probability falls below this are not drafted even if budget remains.
    public var minimumPathProbability: Float = 0

    public init() {}

    /// The reference drafter's behaviour: fixed back-off threshold 50, no summing across sources.
    public static var reference: DrafterConfiguration {
        var c = DrafterConfiguration()
        c.backoff = .threshold(minimumCount: 50)
        c.combination = .reference
        return c
    }

    /// Per-level discount of a request-trie match of length m (the reference's 0.6 + 0.1·m).
    func promptDiscount(matchLength m: Int) -> Float { min(1, 0.6 + 0.1 * Float(m)) }
}
