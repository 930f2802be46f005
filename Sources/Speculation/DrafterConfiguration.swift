/// How the drafter combines its two sources into one tree.
public enum SourceCombination: Sendable, Equatable {
    /// Every source follows its own chain with its own path probability (request-trie matches of
    /// every length and the datastore, as in the reference); a tree node's probability combines
    /// the best request-trie chain a and the datastore chain b reaching it as 1 - (1 - a)(1 - b):
    /// a token both sources propose ranks above either alone.
    case noisyOr
    /// Like `noisyOr`, combining as min(1, a + b).
    case sum
    /// The reference's rule: each source pushes its own candidates; the first to claim a tree
    /// position creates the node and later arrivals only add their children; nothing is summed.
    case reference
}

/// The drafter's constants. Defaults: the reference's where they measured best (query length 4,
/// datastore branch length 8, prompt weight 0.6, discount 0.6 + 0.1·m); deeper trees (16, with
/// 16-token request windows), an adaptive back-off and noisy-or merging where ours did better.
public struct DrafterConfiguration: Sendable, Equatable {
    /// Most context tokens used as the datastore's lookup key.
    public var queryLength = 4
    /// Longest context suffix matched in the request trie (every shorter one is matched too).
    public var promptQueryLength = 4
    /// Deepest tree node.
    public var maxDepth = 16
    /// How many tokens of each datastore hit are followed (the reference's branch length, 8).
    public var datastoreDepth = 8
    /// Most children of one tree node.
    public var maxFanOut = 8
    /// Datastore hits sampled per key (the reference samples 100 from one key; sampling 60 from
    /// each of more keys drafts as well in half the time).
    public var maxSamples = 60
    /// Datastore back-off rule.
    public var backoff = BackoffPolicy.adaptive(minimumCount: 50, decisiveShare: 0.9, maximumCount: 150)
    /// Weight of the request trie at the first level (the reference's 0.6).
    public var promptFirstWeight: Float = 0.6
    /// How the sources are combined.
    public var combination = SourceCombination.noisyOr
    /// Nodes whose path probability falls below this are not drafted even if budget remains.
    public var minimumPathProbability: Float = 0

    public init() {}

    /// The reference drafter's behaviour: fixed back-off threshold 50, 100 samples, depth 8, no
    /// summing across sources (use it with 8-token request windows).
    public static var reference: DrafterConfiguration {
        var c = DrafterConfiguration()
        c.backoff = .threshold(minimumCount: 50)
        c.combination = .reference
        c.maxDepth = 8
        c.maxSamples = 100
        c.datastorePseudoCount = 0
        return c
    }

    /// Added to a request-trie node's count when estimating its next-token probabilities, so a
    /// context seen once weighs less than one seen many times with the same continuation.
    public var promptPseudoCount: Float = 0
    /// The same for the datastore's counts (its deep nodes rest on few sampled hits).
    public var datastorePseudoCount: Float = 1

    /// Per-level discount of a request-trie match of length m: base + step·m, at most 1 (the
    /// reference's 0.6 + 0.1·m).
    public var promptDiscountBase: Float = 0.6
    public var promptDiscountStep: Float = 0.1

    func promptDiscount(matchLength m: Int) -> Float { min(1, promptDiscountBase + promptDiscountStep * Float(m)) }
}
