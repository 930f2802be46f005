/// How the datastore lookup backs off to shorter keys when the full key is rare.
public enum BackoffPolicy: Sendable, Equatable {
    /// The reference's rule: add the continuations of ever shorter keys until at least
    /// `minimumCount` have been collected (the reference uses 50).
    case threshold(minimumCount: Int)
    /// Stop early when the evidence is decisive, search further when it is split: after each key,
    /// stop if at least `maximumCount` continuations were collected, or at least `minimumCount`
    /// of which one next token holds `decisiveShare`. A rare key whose hits agree needs no more
    /// samples (and no more searches); a key whose hits disagree gets the broader statistics of
    /// shorter keys, which on the bundled model predict its greedy choice better.
    case adaptive(minimumCount: Int, decisiveShare: Float, maximumCount: Int)
}

/// What one datastore lookup found.
public struct DatastoreLookup: Sendable, Equatable {
    /// Length of the longest key that occurs in the corpus (0 when none does).
    public var longestMatch = 0
    /// Occurrences of that longest key in the corpus.
    public var longestMatchCount = 0
    /// Number of keys searched (the full key and its back-offs).
    public var keysSearched = 0
    /// Number of continuations inserted into the trie.
    public var samples = 0
}

/// The operations on a datastore that depend on its token and position widths.
protocol DatastoreViewProtocol {
    func bucketStarts(vocabularySize: Int, into starts: UnsafeMutableBufferPointer<Int>)
    func token(at position: Int) -> Int32
    func position(at rank: Int) -> Int
    func validate(vocabularySize: Int, path: String) throws
    func range(of key: UnsafeBufferPointer<Int32>) -> Range<Int>
    func range(of key: UnsafeBufferPointer<Int32>, cache: inout PrefixRangeCache) -> Range<Int>
    func collect(key: UnsafeBufferPointer<Int32>, depth: Int, maxSamples: Int, backoff: BackoffPolicy,
                 cache: inout PrefixRangeCache, into trie: inout CountTrie) -> DatastoreLookup
}

/// Tokens (n) and suffix array (n) of a datastore, typed.
struct DatastoreView<T: FixedWidthInteger & UnsignedInteger, P: FixedWidthInteger & SignedInteger>: DatastoreViewProtocol {
    let tokens: UnsafeBufferPointer<T>
    let sa: UnsafeBufferPointer<P>
    let separator: Int32
    /// buckets[t] ..< buckets[t + 1] are the ranks of the suffixes starting with token t.
    let buckets: UnsafeBufferPointer<Int>

    func bucketStarts(vocabularySize: Int, into starts: UnsafeMutableBufferPointer<Int>) {
        for t in 0...vocabularySize { starts[t] = 0 }
        for t in tokens { starts[Int(t) + 1] += 1 }
        for t in 0..<vocabularySize { starts[t + 1] += starts[t] }
    }

    func token(at position: Int) -> Int32 { Int32(tokens[position]) }
    func position(at rank: Int) -> Int { Int(sa[rank]) }

    func validate(vocabularySize: Int, path: String) throws {
        var maxToken: T = 0
        for t in tokens { maxToken = max(maxToken, t) }
        if tokens.count > 0, Int(maxToken) >= vocabularySize {
            throw DatastoreError("datastore \(path): token id \(maxToken) >= vocabulary size \(vocabularySize)")
        }
        var bad = false
        for p in sa { bad = bad || p < 0 || Int(p) >= tokens.count }
        if bad { throw DatastoreError("datastore \(path): suffix array entry outside 0..<\(tokens.count)") }
    }

    /// -1, 0 or 1 as the suffix at `position`, cut to the key's length, sorts before, equal to or
    /// after `key`; the first `skip` tokens are known to be equal.
    @inline(__always)
    private func compare(suffixAt position: Int, with key: UnsafeBufferPointer<Int32>, skip: Int) -> Int {
        let n = tokens.count
        for i in skip..<key.count {
            if position + i >= n { return -1 }  // the suffix is a proper prefix of the key
            let a = Int64(tokens[position + i]), b = Int64(key[i])
            if a != b { return a < b ? -1 : 1 }
        }
        return 0
    }

    /// The ranks of the suffixes that start with `key`: the first token's bucket, then two binary
    /// searches inside it on the rest of the key.
    func range(of key: UnsafeBufferPointer<Int32>) -> Range<Int> {
        guard let first = key.first else { return 0..<sa.count }
        guard first >= 0, Int(first) < buckets.count - 1 else { return 0..<0 }
        return narrow(buckets[Int(first)]..<buckets[Int(first) + 1], to: key, skip: 1)
    }

    /// The same, starting from the range of the key's first two tokens, remembered in `cache`.
    func range(of key: UnsafeBufferPointer<Int32>, cache: inout PrefixRangeCache) -> Range<Int> {
        guard key.count >= 2 else { return range(of: key) }
        let pair = cache.range(first: key[0], second: key[1]) { range(of: UnsafeBufferPointer(rebasing: key[0..<2])) }
        return narrow(pair, to: key, skip: 2)
    }

    /// The ranks inside `r` whose suffixes start with `key`, where every suffix in `r` starts with
    /// the key's first `skip` tokens: two binary searches on the rest of the key.
    private func narrow(_ r: Range<Int>, to key: UnsafeBufferPointer<Int32>, skip: Int) -> Range<Int> {
        if key.count <= skip || r.isEmpty { return r }
        var lo = r.lowerBound, hi = r.upperBound
        while lo < hi {
            let mid = (lo + hi) >> 1
            if compare(suffixAt: Int(sa[mid]), with: key, skip: skip) < 0 { lo = mid + 1 } else { hi = mid }
        }
        let start = lo
        hi = r.upperBound
        while lo < hi {
            let mid = (lo + hi) >> 1
            if compare(suffixAt: Int(sa[mid]), with: key, skip: skip) <= 0 { lo = mid + 1 } else { hi = mid }
        }
        return start..<lo
    }

    /// Counts the continuations of `key` and of its back-offs into `trie` (not reset here). Each key's
    /// hits are sampled with an even stride over its whole suffix-array range, at most `maxSamples`,
    /// and each sample contributes up to `depth` tokens, stopping before a separator.
    func collect(key: UnsafeBufferPointer<Int32>, depth: Int, maxSamples: Int, backoff: BackoffPolicy,
                 cache: inout PrefixRangeCache, into trie: inout CountTrie) -> DatastoreLookup {
        var result = DatastoreLookup()
        var length = key.count
        while length >= 1 {
            let k = UnsafeBufferPointer(rebasing: key[(key.count - length)...])
            let r = range(of: k, cache: &cache)
            result.keysSearched += 1
            if !r.isEmpty {
                if result.longestMatch == 0 { result.longestMatch = length; result.longestMatchCount = r.count }
                let samples = min(r.count, max(1, maxSamples))
                sample(range: r, count: samples, offset: length, depth: depth, into: &trie)
                result.samples += samples
                switch backoff {
                case .threshold(let minimumCount):
                    if result.samples >= minimumCount { return result }
                case .adaptive(let minimumCount, let decisiveShare, let maximumCount):
                    if result.samples >= maximumCount { return result }
                    if result.samples >= minimumCount, trie.largestChildWeight(of: CountTrie.root)
                        >= decisiveShare * Float(result.samples) { return result }
                }
            }
            length -= 1
        }
        return result
    }

    /// Harvests `count` hits spread evenly over `r`. The suffix-array entries, then each hit's first
    /// token, are read in tight loops first, so their cache misses (two per hit, anywhere in the
    /// corpus) overlap instead of queueing behind the trie updates.
    private func sample(range r: Range<Int>, count: Int, offset: Int, depth: Int, into trie: inout CountTrie) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * count) { scratch in
            for j in 0..<count { scratch[j] = Int(sa[r.lowerBound + j * r.count / count]) + offset }
            for j in 0..<count { scratch[count + j] = scratch[j] < tokens.count ? Int(tokens[scratch[j]]) : -1 }
            for j in 0..<count { harvest(from: scratch[j], first: Int32(scratch[count + j]), depth: depth, into: &trie) }
        }
    }

    /// Follows one hit from `start`, whose token `first` was read already (-1: past the end).
    @inline(__always)
    private func harvest(from start: Int, first: Int32, depth: Int, into trie: inout CountTrie) {
        trie.addWeight(1, to: CountTrie.root)
        guard first >= 0, first != separator, depth > 0 else { return }
        var node = trie.descend(from: CountTrie.root, token: first, adding: 1)
        let end = min(start + depth, tokens.count)
        var i = start + 1
        while i < end {
            let t = Int32(tokens[i])
            if t == separator { break }
            node = trie.descend(from: node, token: t, adding: 1)
            i += 1
        }
    }
}

extension Datastore {
    /// The suffix-array ranks of the suffixes starting with `key` (empty when it does not occur).
    public func suffixRange(of key: [Int32]) -> Range<Int> {
        key.withUnsafeBufferPointer { k in withView { $0.range(of: k) } }
    }

    /// The same, searching from the range of the key's first two tokens kept in `cache`.
    public func suffixRange(of key: [Int32], cache: inout PrefixRangeCache) -> Range<Int> {
        key.withUnsafeBufferPointer { k in withView { $0.range(of: k, cache: &cache) } }
    }

    /// Counts the continuations of `key` (its last `queryLength` tokens are used) into `trie`, which
    /// is reset first: up to `maxSamples` hits spread evenly over the suffix-array range, each
    /// followed for up to `depth` tokens (stopping at the separator), backing off to shorter keys as
    /// `backoff` says. Afterwards `weight(child) / weight(root)` is P(next token | key).
    @discardableResult
    public func continuations(of key: some Collection<Int32>, depth: Int = 8, maxSamples: Int = 100,
                              backoff: BackoffPolicy = DrafterConfiguration().backoff,
                              into trie: inout CountTrie) -> DatastoreLookup {
        var cache = PrefixRangeCache()
        return continuations(of: key, depth: depth, maxSamples: maxSamples, backoff: backoff, cache: &cache, into: &trie)
    }

    /// The same, its searches starting from the token-pair ranges kept in `cache` (see `PrefixRangeCache`).
    @discardableResult
    public func continuations(of key: some Collection<Int32>, depth: Int = 8, maxSamples: Int = 100,
                              backoff: BackoffPolicy = DrafterConfiguration().backoff,
                              cache: inout PrefixRangeCache, into trie: inout CountTrie) -> DatastoreLookup {
        trie.reset()
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(key.count, 1)) { buf in
            var i = 0
            for t in key { buf[i] = t; i += 1 }
            let k = UnsafeBufferPointer(rebasing: buf[0..<key.count])
            return withView {
                $0.collect(key: k, depth: depth, maxSamples: maxSamples, backoff: backoff, cache: &cache, into: &trie)
            }
        }
    }
}
