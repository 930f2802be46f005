/// Bounded map from a pre-token's bytes to its BPE ids, stored flat (no per-entry allocation) so a hit
/// costs one hash and one compare. Emptied when full, like HF's cache, which only affects speed.
struct WordCache {
    static let maxWordLength = 256
    private static let maxEntries = 1 << 16

    private var slots: [Int32]                 // [capacity]: entry index + 1, 0 = empty
    private var hashes: [UInt64] = []          // per entry
    private var keyRanges: [Range<Int32>] = [] // per entry, into keyBytes
    private var valueRanges: [Range<Int32>] = [] // per entry, into values
    private var keyBytes: [UInt8] = []
    private var values: [Int32] = []

    init() {
        slots = [Int32](repeating: 0, count: Self.maxEntries * 2)
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in range { h = (h ^ UInt64(bytes[i])) &* 0x100_0000_01b3 }
        return h ^ (h >> 29)
    }

    /// Appends the cached ids of the word to `out`; false when absent.
    func lookup(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, hash: UInt64,
                into out: inout [Int]) -> Bool {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(slots[slot]) - 1
            if entry < 0 { return false }
            if hashes[entry] == hash && matches(entry, bytes, range) {
                for k in valueRanges[entry] { out.append(Int(values[Int(k)])) }
                return true
            }
            slot = (slot + 1) & mask
        }
    }

    private func matches(_ entry: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        let key = keyRanges[entry]
        guard key.count == range.count else { return false }
        var k = Int(key.lowerBound)
        for i in range {
            if keyBytes[k] != bytes[i] { return false }
            k += 1
        }
        return true
    }

    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, hash: UInt64, ids: ArraySlice<Int>) {
        if hashes.count >= Self.maxEntries { removeAll() }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        hashes.append(hash)
        let keyStart = Int32(keyBytes.count)
        keyBytes.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[range]))
        keyRanges.append(keyStart..<Int32(keyBytes.count))
        let valueStart = Int32(values.count)
        for id in ids { values.append(Int32(truncatingIfNeeded: id)) }
        valueRanges.append(valueStart..<Int32(values.count))
        slots[slot] = Int32(hashes.count)
    }

    private mutating func removeAll() {
        for i in slots.indices { slots[i] = 0 }
        hashes.removeAll(keepingCapacity: true)
        keyRanges.removeAll(keepingCapacity: true)
        valueRanges.removeAll(keepingCapacity: true)
        keyBytes.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }
}
