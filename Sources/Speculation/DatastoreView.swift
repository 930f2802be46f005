/// How the datastore lookup backs off to shorter keys when the full key is rare.
public enum BackoffPolicy: Sendable, Equatable {
    /// The reference's rule: add the continuations of ever shorter keys, each sample weighing 1, until
    /// at least `minimumCount` have been collected (the reference uses 50).
    case threshold(minimumCount: Int)
    /// Witten-Bell interpolation: a key seen `r` times with `d` distinct next tokens keeps the share
    /// r / (r + d) of the remaining probability mass and passes the rest to the next shorter key;
    /// shorter keys are searched only while the remaining mass is at least `residual`. A frequent
    /// key stops the search at once; a rare one still gets a weight that fits its evidence instead of
    /// being drowned by the shorter key's 100 samples.
    case interpolated(residual: Float)
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
    func token(at position: Int) -> Int32
    func position(at rank: Int) -> Int
    func validate(vocabularySize: Int, path: String) throws
    func range(of key: UnsafeBufferPointer<Int32>) -> Range<Int>
    func collect(key: UnsafeBufferPointer<Int32>, depth: Int, maxSamples: Int, backoff: BackoffPolicy,
                 into trie: inout CountTrie) -> DatastoreLookup
}

/// Tokens (n) and suffix array (n) of a datastore, typed.
struct DatastoreView<T: FixedWidthInteger & UnsignedInteger, P: FixedWidthInteger & SignedInteger>: DatastoreViewProtocol {
    let tokens: UnsafeBufferPointer<T>
    let sa: UnsafeBufferPointer<P>
    let separator: Int32

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

    /// -1, 0 or 1 as the suffix at `position`, cut to the key's length, sorts before, equal to or after `key`.
    @inline(__always)
    private func compare(suffixAt position: Int, with key: UnsafeBufferPointer<Int32>) -> Int {
        let n = tokens.count
        for i in 0..<key.count {
            if position + i >= n { return -1 }  // the suffix is a proper prefix of the key
            let a = Int64(tokens[position + i]), b = Int64(key[i])
            if a != b { return a < b ? -1 : 1 }
        }
        return 0
    }

    /// The ranks of the suffixes that start with `key`: two binary searches.
    func range(of key: UnsafeBufferPointer<Int32>) -> Range<Int> {
        var lo = 0, hi = sa.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if compare(suffixAt: Int(sa[mid]), with: key) < 0 { lo = mid + 1 } else { hi = mid }
        }
        let start = lo
        hi = sa.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if compare(suffixAt: Int(sa[mid]), with: key) <= 0 { lo = mid + 1 } else { hi = mid }
        }
        return start..<lo
    }

    /// Counts the continuations of `key` and of its back-offs into `trie` (not reset here). Each key's
    /// hits are sampled with an even stride over its whole suffix-array range, at most `maxSamples`,
    /// and each sample contributes up to `depth` tokens, stopping before a separator.
    func collect(key: UnsafeBufferPointer<Int32>, depth: Int, maxSamples: Int, backoff: BackoffPolicy,
                 into trie: inout CountTrie) -> DatastoreLookup {
        var result = DatastoreLookup()
        var mass: Float = 1
        var length = key.count
        while length >= 1 {
            let k = UnsafeBufferPointer(rebasing: key[(key.count - length)...])
            let r = range(of: k)
            result.keysSearched += 1
            if !r.isEmpty {
                if result.longestMatch == 0 { result.longestMatch = length; result.longestMatchCount = r.count }
                let samples = min(r.count, max(1, maxSamples))
                let weight: Float
                switch backoff {
                case .threshold:
                    weight = 1
                case .interpolated:
                    let distinct = distinctNextTokens(range: r, samples: samples, offset: length)
                    let lambda = Float(r.count) / Float(r.count + distinct)
                    weight = mass * lambda / Float(samples)
                    mass *= 1 - lambda
                }
                for j in 0..<samples {
                    let position = Int(sa[r.lowerBound + j * r.count / samples])
                    harvest(from: position + length, depth: depth, weight: weight, into: &trie)
                }
                result.samples += samples
                switch backoff {
                case .threshold(let minimumCount): if result.samples >= minimumCount { return result }
                case .interpolated(let residual): if mass < residual { return result }
                }
            }
            length -= 1
        }
        return result
    }

    /// Distinct next tokens among the sampled hits; they come sorted, as the suffixes do.
    private func distinctNextTokens(range r: Range<Int>, samples: Int, offset: Int) -> Int {
        var distinct = 0
        var previous: Int64 = -2
        for j in 0..<samples {
            let p = Int(sa[r.lowerBound + j * r.count / samples]) + offset
            let next: Int64 = p < tokens.count && Int32(tokens[p]) != separator ? Int64(tokens[p]) : -1
            if next != previous { distinct += 1; previous = next }
        }
        return distinct
    }

    @inline(__always)
    private func harvest(from start: Int, depth: Int, weight: Float, into trie: inout CountTrie) {
        trie.addWeight(weight, to: CountTrie.root)
        var node = CountTrie.root
        let end = min(start + depth, tokens.count)
        var i = start
        while i < end {
            let t = Int32(tokens[i])
            if t == separator { break }
            node = trie.descend(from: node, token: t, adding: weight)
            i += 1
        }
    }
}

extension Datastore {
    /// The suffix-array ranks of the suffixes starting with `key` (empty when it does not occur).
    public func suffixRange(of key: [Int32]) -> Range<Int> {
        key.withUnsafeBufferPointer { k in withView { $0.range(of: k) } }
    }

    /// Counts the continuations of `key` (its last `queryLength` tokens are used) into `trie`, which
    /// is reset first: up to `maxSamples` hits spread evenly over the suffix-array range, each
    /// followed for up to `depth` tokens (stopping at the separator), backing off to shorter keys as
    /// `backoff` says. Afterwards `weight(child) / weight(root)` is P(next token | key).
    @discardableResult
    public func continuations(of key: some Collection<Int32>, depth: Int = 8, maxSamples: Int = 100,
                              backoff: BackoffPolicy = .interpolated(residual: 0.05),
                              into trie: inout CountTrie) -> DatastoreLookup {
        trie.reset()
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(key.count, 1)) { buf in
            var i = 0
            for t in key { buf[i] = t; i += 1 }
            let k = UnsafeBufferPointer(rebasing: buf[0..<key.count])
            return withView { $0.collect(key: k, depth: depth, maxSamples: maxSamples, backoff: backoff, into: &trie) }
        }
    }
}
