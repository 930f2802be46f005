/// Applies BPE merges to one word as HF's `Word::merge_all` does: always the pair of lowest rank next,
/// the leftmost among equals, using a linked list over the symbols and a min-heap of candidate pairs
/// with stale entries skipped (O(n log n), so long unsplit words stay fast).
struct BPEMerger {
    /// (left id << 32 | right id) → (rank << 32 | merged id)
    let merges: [UInt64: UInt64]

    @inline(__always)
    static func pairKey(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    /// Merges `symbols` in place; removed symbols are dropped from the result.
    func merge(_ symbols: inout [Int32]) {
        let n = symbols.count
        guard n > 1 else { return }
        var next = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = i + 1 < n ? Int32(i + 1) : -1 }
            count = n
        }
        var prev = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = Int32(i - 1) }
            count = n
        }
        var heap = MinHeap()
        for i in 0..<(n - 1) {
            if let merge = merges[Self.pairKey(symbols[i], symbols[i + 1])] {
                heap.push(merge & 0xFFFF_FFFF_0000_0000 | UInt64(i))
            }
        }
        while let top = heap.pop() {
            let rank = top >> 32
            let pos = Int(top & 0xFFFF_FFFF)
            let right = Int(next[pos])
            guard symbols[pos] >= 0, right >= 0,
                  let merge = merges[Self.pairKey(symbols[pos], symbols[right])], merge >> 32 == rank
            else { continue }
            symbols[pos] = Int32(truncatingIfNeeded: merge & 0xFFFF_FFFF)
            symbols[right] = -1
            let after = next[right]
            next[pos] = after
            if after >= 0 { prev[Int(after)] = Int32(pos) }
            let before = Int(prev[pos])
            if before >= 0, let m = merges[Self.pairKey(symbols[before], symbols[pos])] {
                heap.push(m & 0xFFFF_FFFF_0000_0000 | UInt64(before))
            }
            if after >= 0, let m = merges[Self.pairKey(symbols[pos], symbols[Int(after)])] {
                heap.push(m & 0xFFFF_FFFF_0000_0000 | UInt64(pos))
            }
        }
        symbols.removeAll { $0 < 0 }
    }
}

/// Binary min-heap of (rank << 32 | position) keys.
struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ item: UInt64) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            if left >= items.count { break }
            let right = left + 1
            let child = right < items.count && items[right] < items[left] ? right : left
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            parent = child
        }
        return top
    }
}
