/// The tokens of one forward step, as a struct of arrays (the shape of `llama_batch`).
///
/// A step may mix sequences, each with any number of new tokens: prompt chunks, single decode tokens,
/// or draft trees. Each new token attends to its sequence's committed cache and to its ancestors among
/// the step's tokens of the same sequence, found by following `parents`. A chain (`parent = i - 1`) is
/// ordinary causal attention; a tree is how drafts are verified in one pass.
public struct Batch: Sendable {
    /// Token ids, one per new token. [n]
    public private(set) var tokens: [Int32] = []
    /// Position of each token in its sequence (RoPE angle), i.e. context length + depth in the tree. [n]
    public private(set) var positions: [Int32] = []
    /// Cache sequence each token belongs to. [n]
    public private(set) var sequences: [Int32] = []
    /// Index (in this batch) of the token's parent, or -1 when it hangs directly from the committed cache. [n]
    public private(set) var parents: [Int32] = []
    /// Where the token's key/value go in its sequence's cache: committed length + its index among the
    /// sequence's new tokens in this step. [n]
    public private(set) var cacheSlots: [Int32] = []
    /// Whether the step returns logits for this token. [n]
    public private(set) var wantsLogits: [Bool] = []

    public init(capacity: Int = 0) {
        tokens.reserveCapacity(capacity)
        positions.reserveCapacity(capacity)
        sequences.reserveCapacity(capacity)
        parents.reserveCapacity(capacity)
        cacheSlots.reserveCapacity(capacity)
        wantsLogits.reserveCapacity(capacity)
    }

    public var count: Int { tokens.count }
    public var isEmpty: Bool { tokens.isEmpty }
    /// Number of tokens whose logits the step computes.
    public var logitRowCount: Int { wantsLogits.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Appends one token.
    /// - Parameters:
    ///   - parent: batch index of the parent token (same sequence, earlier in the batch) or -1.
    ///   - cacheSlot: the slot its key/value occupy in the sequence's cache.
    public mutating func append(token: Int, position: Int, sequence: Int, parent: Int, cacheSlot: Int, wantsLogits: Bool) {
        precondition(parent < count, "a parent must come before its child in the batch")
        precondition(parent < 0 || sequences[parent] == Int32(sequence), "a parent must belong to the same sequence")
        tokens.append(Int32(token))
        positions.append(Int32(position))
        sequences.append(Int32(sequence))
        parents.append(Int32(parent))
        cacheSlots.append(Int32(cacheSlot))
        self.wantsLogits.append(wantsLogits)
    }

    /// Appends a run of tokens that follow one another (a prompt chunk or a single decode token):
    /// each attends to the previous one. Returns the batch index of the last token.
    @discardableResult
    public mutating func appendChain(_ ids: some Collection<Int>, sequence: Int, startPosition: Int,
                                     logits: ChainLogits = .last) -> Int {
        var parent = -1
        for (offset, id) in ids.enumerated() {
            let isLast = offset == ids.count - 1
            let wants = logits == .all || (logits == .last && isLast)
            append(token: id, position: startPosition + offset, sequence: sequence, parent: parent,
                   cacheSlot: startPosition + offset, wantsLogits: wants)
            parent = count - 1
        }
        return count - 1
    }

    public enum ChainLogits: Sendable { case none, last, all }

    public mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
        parents.removeAll(keepingCapacity: true)
        cacheSlots.removeAll(keepingCapacity: true)
        wantsLogits.removeAll(keepingCapacity: true)
    }
}
