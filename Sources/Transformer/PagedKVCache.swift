import Kernels

/// Keys and values of every sequence, in fixed-size blocks shared by all sequences (vLLM's paged
/// attention layout), so memory goes where tokens are and a finished sequence frees its blocks at once.
///
/// Storage per layer: `[blocks, kvHeads, blockSize, headDim]` f32 for K and the same for V, so the keys
/// of one head inside a block are contiguous for the attention loop. A sequence owns a block table; its
/// slot `s` lives in block `table[s / blockSize]` at row `s % blockSize`. "Committed" slots hold the
/// accepted context; a step writes its new tokens after them and the caller then commits a chain,
/// keeps an accepted tree path (moving its entries down), or drops them.
public final class PagedKVCache {
    public let layerCount: Int
    public let kvHeads: Int
    public let headDim: Int
    public let blockSize: Int
    public let blockCount: Int

    /// K then V for every layer: [layers, 2, blocks, kvHeads, blockSize, headDim]
    private let storage: UnsafeMutablePointer<Float>
    private let storageBytes: Int
    private var freeList: [Int32]
    private var tables: [[Int32]] = []
    private var committed: [Int] = []
    private var live: [Bool] = []

    /// Floats of one block of one layer's K (or V).
    var blockStride: Int { kvHeads * blockSize * headDim }

    public static func bytesPerToken(layers: Int, kvHeads: Int, headDim: Int) -> Int {
        layers * 2 * kvHeads * headDim * MemoryLayout<Float>.size
    }

    /// - Parameter budgetMB: memory for keys and values; the block count follows from it.
    public init(layers: Int, kvHeads: Int, headDim: Int, blockSize: Int = 16, budgetMB: Int) {
        precondition(layers > 0 && kvHeads > 0 && headDim > 0 && blockSize > 0 && budgetMB > 0)
        self.layerCount = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.blockSize = blockSize
        let bytesPerBlock = Self.bytesPerToken(layers: layers, kvHeads: kvHeads, headDim: headDim) * blockSize
        self.blockCount = max(1, budgetMB * 1_048_576 / bytesPerBlock)
        let floats = layers * 2 * blockCount * kvHeads * blockSize * headDim
        // Pages are faulted in as blocks are first written, so a large budget costs nothing up front;
        // huge pages, because the attention loop visits blocks in any order (see HugePageMemory).
        storageBytes = floats * MemoryLayout<Float>.size
        storage = HugePageMemory.allocate(bytes: storageBytes).bindMemory(to: Float.self, capacity: floats)
        freeList = (0..<Int32(blockCount)).reversed()
    }

    deinit { HugePageMemory.deallocate(storage, bytes: storageBytes) }

    public var freeBlockCount: Int { freeList.count }
    /// Tokens that fit in the free blocks.
    public var freeTokenCapacity: Int { freeList.count * blockSize }

    // MARK: - Sequences

    /// Starts an empty sequence and returns its id (ids of released sequences are reused).
    public func createSequence() -> Int {
        if let reusable = live.firstIndex(of: false) {
            live[reusable] = true
            return reusable
        }
        tables.append([])
        committed.append(0)
        live.append(true)
        return tables.count - 1
    }

    /// Frees every block of the sequence; its id may be handed out again.
    public func release(_ sequence: Int) {
        precondition(live[sequence], "sequence \(sequence) is not live")
        freeList.append(contentsOf: tables[sequence].reversed())
        tables[sequence].removeAll()
        committed[sequence] = 0
        live[sequence] = false
    }

    /// Accepted tokens of the sequence.
    public func length(of sequence: Int) -> Int { committed[sequence] }

    /// Blocks needed so that slots `[0, slots)` of the sequence exist.
    public func blocksNeeded(_ sequence: Int, slots: Int) -> Int {
        max(0, (slots + blockSize - 1) / blockSize - tables[sequence].count)
    }

    /// Makes slots `[0, slots)` addressable. Returns false, changing nothing, when the cache is full.
    public func reserve(_ sequence: Int, slots: Int) -> Bool {
        let needed = blocksNeeded(sequence, slots: slots)
        guard needed <= freeList.count else { return false }
        for _ in 0..<needed {
            tables[sequence].append(freeList.removeLast())
        }
        return true
    }

    /// Marks `count` new slots after the committed ones as accepted (a prompt chunk or a chain).
    public func commit(_ sequence: Int, count: Int) {
        precondition(committed[sequence] + count <= tables[sequence].count * blockSize)
        committed[sequence] += count
    }

    /// Keeps the entries written at `slots` (a tree path, in order) as the next committed tokens,
    /// moving each one down to its final place; the rest of the step's entries are dropped.
    public func acceptPath(_ sequence: Int, slots: [Int]) {
        let base = committed[sequence]
        for (offset, slot) in slots.enumerated() where slot != base + offset {
            precondition(slot > base + offset, "a path must be given in increasing slot order")
            copySlot(sequence, from: slot, to: base + offset)
        }
        committed[sequence] = base + slots.count
        trimBlocks(sequence, keeping: committed[sequence])
    }

    /// Drops accepted tokens past `length` (preemption of the tail, a stop string, a rewind).
    public func truncate(_ sequence: Int, to length: Int) {
        precondition(length <= committed[sequence])
        committed[sequence] = length
        trimBlocks(sequence, keeping: length)
    }

    /// Frees blocks past those holding `keeping` slots.
    private func trimBlocks(_ sequence: Int, keeping: Int) {
        let keepBlocks = (keeping + blockSize - 1) / blockSize
        while tables[sequence].count > keepBlocks {
            freeList.append(tables[sequence].removeLast())
        }
    }

    // MARK: - Addressing (hot path)

    /// Runs `body` with the block table of a sequence (read-only; safe from several threads at once).
    @inline(__always)
    func withTable<Result>(_ sequence: Int, _ body: (UnsafePointer<Int32>) -> Result) -> Result {
        tables[sequence].withUnsafeBufferPointer { body($0.baseAddress ?? UnsafePointer(bitPattern: 8)!) }
    }

    /// Offset (in floats, from a layer's K or V base) of one head's row for a slot.
    @inline(__always)
    func rowOffset(table: UnsafePointer<Int32>, slot: Int, head: Int) -> Int {
        Int(table[slot / blockSize]) * blockStride + (head * blockSize + slot % blockSize) * headDim
    }

    /// Start of layer `layer`'s K (v = false) or V (v = true) storage.
    @inline(__always)
    func base(layer: Int, values: Bool) -> UnsafeMutablePointer<Float> {
        storage + (layer * 2 + (values ? 1 : 0)) * blockCount * blockStride
    }

    /// Address of one head's row for a slot, given the sequence's block table.
    @inline(__always)
    func row(_ base: UnsafeMutablePointer<Float>, table: UnsafePointer<Int32>, slot: Int, head: Int) -> UnsafeMutablePointer<Float> {
        base + rowOffset(table: table, slot: slot, head: head)
    }

    private func copySlot(_ sequence: Int, from source: Int, to destination: Int) {
        withTable(sequence) { table in
            for layer in 0..<layerCount {
                for values in [false, true] {
                    let layerBase = base(layer: layer, values: values)
                    for head in 0..<kvHeads {
                        let from = row(layerBase, table: table, slot: source, head: head)
                        let to = row(layerBase, table: table, slot: destination, head: head)
                        to.update(from: from, count: headDim)
                    }
                }
            }
        }
    }
}
