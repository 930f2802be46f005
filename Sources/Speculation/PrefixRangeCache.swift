/// Suffix-array ranges of two-token prefixes, remembered as datastore lookups find them.
///
/// Every key of two or more tokens lies inside the range of its first two tokens, so a search that
/// starts there skips the levels of binary search inside the first token's bucket, each two
/// dependent cache misses in a suffix array of tens of MB (bundled corpus: 50 MB). In a profile those
/// levels took about half of a lookup's time, and the lookup most of a draft's. Code repeats its
/// token pairs, so most lookups find their pair here. Not thread-safe: one per drafter.
public struct PrefixRangeCache: Sendable {
    private var ranges: [Int64: Range<Int>] = [:]
    /// Pairs kept before the cache starts over (about 2 MB).
    public static let capacity = 1 << 16

    public init() {}

    /// The range of suffixes starting with `first`, `second`: remembered, or found by `search`.
    mutating func range(first: Int32, second: Int32, search: () -> Range<Int>) -> Range<Int> {
        let key = Int64(first) << 32 | Int64(UInt32(bitPattern: second))
        if let known = ranges[key] { return known }
        let found = search()
        if ranges.count >= Self.capacity { ranges.removeAll(keepingCapacity: true) }
        ranges[key] = found
        return found
    }
}
