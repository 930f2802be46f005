/// A trie of token paths with a weight on every node: inserting a path adds its weight to every node
/// it passes, so `weight(child) / weight(node)` is the empirical probability of the child's token
/// after the node's path.
///
/// Nodes live in flat arrays (index 0 is the root) and children form singly linked sibling lists, so
/// a reset keeps every buffer and a query allocates nothing. Child lookup scans the sibling list; the
/// per-request trie, whose root can have thousands of children, adds a hash index (`indexed`) for the
/// children of nodes wider than `wideNode`. Only those: counting a prompt's windows of 16 tokens makes
/// mostly new nodes below nodes with no child yet, and keying every one of them took a third of the
/// counting time (a synthetic 175-token prompt: 85 µs with every node keyed, 61 µs now), paid for
/// every request at its first draft.
public struct CountTrie: Sendable {
    /// Index of the root node.
    public static let root: Int32 = 0
    /// Marks "no node" in `firstChild` / `nextSibling`.
    static let none: Int32 = -1

    private(set) var tokens: [Int32] = []
    private(set) var weights: [Float] = []
    private(set) var firstChild: [Int32] = []
    private(set) var nextSibling: [Int32] = []
    /// Children per node, kept only when `indexed`.
    private var childCount: [Int32] = []
    /// (parent, token) → child for the children of nodes with more than `wideNode` children, kept only
    /// when `indexed`.
    private var index = ChildIndex()
    private let indexed: Bool
    /// Children a node may have before they are indexed: scanning this many siblings costs about what
    /// one probe of the index does.
    static let wideNode: Int32 = 8

    /// An empty trie (root only, weight 0). `indexed` adds a hash index for tries with wide nodes.
    public init(indexed: Bool = false, capacity: Int = 0) {
        self.indexed = indexed
        reserveCapacity(capacity + 1)
        reset()
    }

    /// Makes room for `capacity` nodes in all.
    public mutating func reserveCapacity(_ capacity: Int) {
        tokens.reserveCapacity(capacity)
        weights.reserveCapacity(capacity)
        firstChild.reserveCapacity(capacity)
        nextSibling.reserveCapacity(capacity)
        if indexed { childCount.reserveCapacity(capacity) }
    }

    /// Number of nodes, root included.
    public var nodeCount: Int { tokens.count }

    /// Drops every node but the root, keeping the buffers' capacity.
    public mutating func reset() {
        tokens.removeAll(keepingCapacity: true)
        weights.removeAll(keepingCapacity: true)
        firstChild.removeAll(keepingCapacity: true)
        nextSibling.removeAll(keepingCapacity: true)
        if indexed {
            childCount.removeAll(keepingCapacity: true)
            childCount.append(0)
            index.removeAll()
        }
        tokens.append(-1)
        weights.append(0)
        firstChild.append(Self.none)
        nextSibling.append(Self.none)
    }

    /// The weight of `node` (for a count trie: how many inserted paths pass through it).
    public func weight(_ node: Int32) -> Float { weights[Int(node)] }
    /// The token on the edge into `node`.
    public func token(_ node: Int32) -> Int32 { tokens[Int(node)] }

    /// The child of `node` reached by `token`, or nil.
    public func child(of node: Int32, token: Int32) -> Int32? {
        if indexed && childCount[Int(node)] > Self.wideNode { return index[node, token] }
        var c = firstChild[Int(node)]
        while c != Self.none {
            if tokens[Int(c)] == token { return c }
            c = nextSibling[Int(c)]
        }
        return nil
    }

    /// Calls `body(child)` for every child of `node`, newest first.
    public func forEachChild(of node: Int32, _ body: (Int32) -> Void) {
        var c = firstChild[Int(node)]
        while c != Self.none {
            body(c)
            c = nextSibling[Int(c)]
        }
    }

    /// The largest weight among `node`'s children (0 without children).
    public func largestChildWeight(of node: Int32) -> Float {
        var best: Float = 0
        var c = firstChild[Int(node)]
        while c != Self.none {
            best = max(best, weights[Int(c)])
            c = nextSibling[Int(c)]
        }
        return best
    }

    /// The node reached from the root by `path`, or nil when the path is not in the trie.
    public func walk(_ path: some Sequence<Int32>) -> Int32? {
        var node = Self.root
        for t in path {
            guard let c = child(of: node, token: t) else { return nil }
            node = c
        }
        return node
    }

    /// Adds `weight` to `node`.
    public mutating func addWeight(_ weight: Float, to node: Int32) {
        weights[Int(node)] += weight
    }

    /// The child of `node` for `token` with `weight` added, created when missing.
    @discardableResult
    public mutating func descend(from node: Int32, token: Int32, adding weight: Float) -> Int32 {
        if let c = child(of: node, token: token) {
            weights[Int(c)] += weight
            return c
        }
        let c = Int32(tokens.count)
        tokens.append(token)
        weights.append(weight)
        firstChild.append(Self.none)
        nextSibling.append(firstChild[Int(node)])
        firstChild[Int(node)] = c
        if indexed { countChild(c, of: node) }
        return c
    }

    /// Counts a new child; the child that makes `node` wide indexes all of its children.
    private mutating func countChild(_ c: Int32, of node: Int32) {
        childCount.append(0)
        childCount[Int(node)] += 1
        let count = childCount[Int(node)]
        if count > Self.wideNode + 1 {
            index.insert(parent: node, token: tokens[Int(c)], child: c)
        } else if count == Self.wideNode + 1 {
            var child = firstChild[Int(node)]
            while child != Self.none {
                index.insert(parent: node, token: tokens[Int(child)], child: child)
                child = nextSibling[Int(child)]
            }
        }
    }

    /// Inserts `path` from the root, adding `weight` to the root and to every node on the path.
    public mutating func insert(_ path: some Sequence<Int32>, weight: Float = 1) {
        weights[0] += weight
        var node = Self.root
        for t in path { node = descend(from: node, token: t, adding: weight) }
    }
}
