/// A tree of draft tokens hanging from the last accepted token (the root, which is not stored).
///
/// Nodes are stored so that every parent precedes its children (the drafter adds them best-first);
/// `parents[i] == -1` marks a child of the root. `probabilities[i]` is the drafter's estimate that
/// the whole path from the root to node i is accepted, so their sum is the expected number of
/// accepted draft tokens (`expectedAcceptedLength`), the quantity the budget policy trades off.
public struct DraftTree: Sendable, Equatable {
    /// Token of each node.
    public private(set) var tokens: [Int32] = []
    /// Parent of each node (-1 = the root).
    public private(set) var parents: [Int32] = []
    /// Depth of each node (1 = child of the root).
    public private(set) var depths: [Int32] = []
    /// Estimated probability that the path root → node is accepted.
    public private(set) var probabilities: [Float] = []
    /// Which sources proposed each node: `DraftTree.fromRequest`, `DraftTree.fromDatastore`, or both.
    public private(set) var sources: [UInt8] = []

    /// Source bit: the request's own prompt and output.
    public static let fromRequest: UInt8 = 1
    /// Source bit: the datastore.
    public static let fromDatastore: UInt8 = 2

    /// An empty tree.
    public init() {}

    /// A hand-built tree; `parents[i]` must be -1 or less than i.
    public init(tokens: [Int32], parents: [Int32], probabilities: [Float]? = nil) {
        precondition(tokens.count == parents.count, "one parent per token")
        for (i, t) in tokens.enumerated() {
            append(token: t, parent: Int(parents[i]), probability: probabilities?[i] ?? 0)
        }
    }

    /// Number of draft tokens (the root not counted).
    public var count: Int { tokens.count }
    /// True when there is nothing to verify beyond the root.
    public var isEmpty: Bool { tokens.isEmpty }
    /// Deepest node's depth (0 for an empty tree).
    public var maxDepth: Int { Int(depths.max() ?? 0) }
    /// Expected number of accepted draft tokens under the drafter's estimates.
    public var expectedAcceptedLength: Float { probabilities.reduce(0, +) }

    /// Removes every node, keeping capacity.
    public mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        parents.removeAll(keepingCapacity: true)
        depths.removeAll(keepingCapacity: true)
        probabilities.removeAll(keepingCapacity: true)
        sources.removeAll(keepingCapacity: true)
    }

    /// Adds a node under `parent` (-1 = root, else an existing node) and returns its index.
    @discardableResult
    public mutating func append(token: Int32, parent: Int, probability: Float, sources: UInt8 = 0) -> Int {
        precondition(parent >= -1 && parent < tokens.count, "a parent must precede its children")
        tokens.append(token)
        parents.append(Int32(parent))
        depths.append(parent < 0 ? 1 : depths[parent] + 1)
        probabilities.append(probability)
        self.sources.append(sources)
        return tokens.count - 1
    }

    /// The child of `node` (-1 = root) carrying `token`, if any (the first one, should there be two).
    public func child(of node: Int, token: Int32) -> Int? {
        var i = node + 1
        while i < tokens.count {
            if parents[i] == Int32(node), tokens[i] == token { return i }
            i += 1
        }
        return nil
    }

    /// The children of `node` (-1 = root), in storage order.
    public func children(of node: Int) -> [Int] {
        (max(node + 1, 0)..<tokens.count).filter { parents[$0] == Int32(node) }
    }

    /// Whether `ancestor` is `node` itself or lies on the path from the root to `node` (the
    /// verification mask: node attends to ancestor).
    public func isAncestor(_ ancestor: Int, of node: Int) -> Bool {
        var n = node
        while n > ancestor { n = Int(parents[n]) }
        return n == ancestor
    }
}
