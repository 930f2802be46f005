/// (parent node, token) → child node, for `CountTrie`s with wide nodes: an open-addressing hash table
/// with linear probing.
///
/// A request's trie looks up the children of its wide nodes (the root's, and those of its most
/// frequent tokens) on most tokens it counts and on every draft. Swift's `Dictionary` hashes each key
/// with SipHash; this table hashes with one multiply (Fibonacci hashing), which spreads keys made of
/// two small dense integers (node ids are assigned in order, token ids are below the vocabulary size)
/// evenly over the table's top bits.
struct ChildIndex: Sendable {
    private var keys: [UInt64]
    private var values: [Int32]
    private var count = 0
    /// log2 of the table's size.
    private var bits: Int

    /// No key is ever all ones: a parent index is at most Int32.max.
    private static let empty = UInt64.max

    init(capacity: Int = 0) {
        bits = 4
        while (1 << bits) < 2 * capacity { bits += 1 }
        keys = Array(repeating: Self.empty, count: 1 << bits)
        values = Array(repeating: -1, count: 1 << bits)
    }

    @inline(__always) static func key(_ parent: Int32, _ token: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: parent)) << 32 | UInt64(UInt32(bitPattern: token))
    }

    @inline(__always) private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - bits))
    }

    subscript(parent: Int32, token: Int32) -> Int32? {
        let key = Self.key(parent, token)
        let mask = keys.count - 1
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == Self.empty { return nil }
            i = (i + 1) & mask
        }
    }

    /// Adds a key that is not in the table.
    mutating func insert(parent: Int32, token: Int32, child: Int32) {
        assert(parent >= 0 && token >= 0)
        if 2 * (count + 1) > keys.count { grow(to: bits + 1) }
        place(Self.key(parent, token), child)
        count += 1
    }

    mutating func removeAll() {
        for i in keys.indices { keys[i] = Self.empty }
        count = 0
    }

    private mutating func place(_ key: UInt64, _ value: Int32) {
        let mask = keys.count - 1
        var i = slot(key)
        while keys[i] != Self.empty { i = (i + 1) & mask }
        keys[i] = key
        values[i] = value
    }

    private mutating func grow(to newBits: Int) {
        let oldKeys = keys, oldValues = values
        bits = newBits
        keys = Array(repeating: Self.empty, count: 1 << bits)
        values = Array(repeating: -1, count: 1 << bits)
        for i in oldKeys.indices where oldKeys[i] != Self.empty { place(oldKeys[i], oldValues[i]) }
    }
}
