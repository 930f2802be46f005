/// One request's n-gram statistics over its prompt and accepted output: a count trie of every window
/// of up to `windowLength` tokens of that token stream.
///
/// Unlike the reference, which inserts output windows only once they are complete (so the newest
/// `windowLength - 1` tokens lag), each token extends every open window at once, so what the request
/// just wrote is predictable on the next step. The windows still open are exactly the stream's
/// suffixes of length 1 ..< windowLength; each of their nodes counts one occurrence whose next token is
/// not known yet, which `continuationWeight(of:)` subtracts, so `child.weight / continuationWeight`
/// is the empirical P(next | context).
public struct RequestDraftState: Sendable {
    /// The trie; its root weight is the number of tokens seen.
    public private(set) var trie: CountTrie
    /// Longest window counted. The reference uses 8; 16 lets a repeated stretch of the prompt or
    /// output be drafted 12 tokens deep below a 4-token match, which on the bench prompts raised the
    /// mean accepted length at 15 draft tokens by a fifth (memory: up to windowLength nodes per token).
    public let windowLength: Int
    /// open[k] = trie node of the stream's last k+1 tokens, for k < windowLength - 1.
    private(set) var open: [Int32] = []
    /// The stream's last tokens, oldest first (at least `windowLength` of them once available).
    private var tail: [Int32] = []
    /// Number of tokens counted (prompt + accepted).
    public private(set) var tokenCount = 0
    /// Tokens given to `appendLater` and not counted yet (see `catchUp`).
    private var deferred: [Int32] = []

    /// Counts every window of `prompt` (windowLength trie steps per token).
    public init(prompt: some Sequence<Int32>, windowLength: Int = 16) {
        self.init(deferring: prompt, windowLength: windowLength)
        catchUp()
    }

    /// A state whose prompt is counted only at the first `catchUp`, which its owner calls when it
    /// suits: the engine counts a prompt in the step that prefilled it, at a thousandth of its cost.
    public init(deferring prompt: some Sequence<Int32>, windowLength: Int = 16) {
        self.windowLength = max(2, windowLength)
        trie = CountTrie(indexed: true)
        open.reserveCapacity(self.windowLength)
        tail.reserveCapacity(4 * self.windowLength)
        deferred = Array(prompt)
    }

    /// Whether every token given is counted: drafting reads only counted tokens.
    public var isCurrent: Bool { deferred.isEmpty }

    /// Keeps `token` to be counted at the next `catchUp`. Counting takes 16 trie steps per token; on
    /// the bundled model at batch 8 that was 2% of a decode step's time (at 1 µs a token, before the
    /// trie had its own hash table) in steps that did not draft.
    public mutating func appendLater(_ token: Int32) {
        deferred.append(token)
    }

    /// Counts the tokens kept by `appendLater` (and a deferred prompt), in order.
    public mutating func catchUp() {
        guard !deferred.isEmpty else { return }
        let tokens = deferred
        deferred.removeAll()
        // Sized once for the prompt; later growth is the arrays' own (reserving a little more at
        // every catch-up would copy the whole trie each time).
        if tokenCount == 0 { trie.reserveCapacity(tokens.count * windowLength + 1) }
        append(accepted: tokens)
    }

    /// Counts the windows ending in the accepted tokens (accepted drafts and the bonus token).
    public mutating func append(accepted: some Sequence<Int32>) {
        for t in accepted { append(t) }
    }

    /// Counts the windows ending in `token`.
    public mutating func append(_ token: Int32) {
        // A full-length window ends here: count it; it does not stay open.
        if open.count == windowLength - 1 {
            trie.descend(from: open[open.count - 1], token: token, adding: 1)
        } else {
            open.append(CountTrie.none)
        }
        // Extend the longer windows first so open[k] can be overwritten by the extension of open[k - 1].
        var k = open.count - 1
        while k > 0 {
            open[k] = trie.descend(from: open[k - 1], token: token, adding: 1)
            k -= 1
        }
        trie.addWeight(1, to: CountTrie.root)
        open[0] = trie.descend(from: CountTrie.root, token: token, adding: 1)
        tail.append(token)
        if tail.count > 4 * windowLength { tail.removeFirst(tail.count - 2 * windowLength) }
        tokenCount += 1
    }

    /// The last `count` tokens of the stream (fewer when the stream is shorter), oldest first.
    public func lastTokens(_ count: Int) -> ArraySlice<Int32> { tail.suffix(count) }

    /// The trie node of the stream's last `length` tokens (1 ..< windowLength), if seen.
    public func suffixNode(length: Int) -> Int32? {
        guard length >= 1, length <= open.count else { return nil }
        return open[length - 1]
    }

    /// The number of occurrences of `node`'s path whose next token is known.
    public func continuationWeight(of node: Int32) -> Float {
        let w = trie.weight(node)
        return open.contains(node) ? w - 1 : w
    }

    /// Empirical next-token distribution after `context` (its last tokens matched as a trie path),
    /// or nil when the context was never followed by anything.
    public func nextTokenProbabilities(after context: some Collection<Int32>) -> [Int32: Float]? {
        guard let node = trie.walk(context) else { return nil }
        let total = continuationWeight(of: node)
        guard total > 0 else { return nil }
        var result: [Int32: Float] = [:]
        trie.forEachChild(of: node) { c in result[trie.token(c)] = trie.weight(c) / total }
        return result
    }
}
