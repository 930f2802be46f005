/// Suffix array construction by induced sorting (SA-IS; Nong, Zhang and Chan, 2009): linear time, a
/// few machine words of scratch per token, no comparison of whole suffixes.
///
/// The string ends in a virtual sentinel smaller than every symbol, so a suffix that is a prefix of
/// another sorts first. Positions are `P` (Int32 up to 2^31 - 1 tokens, Int64 beyond).
enum SuffixArray {
    /// Fills `sa` (count == text.count) with the start positions of `text`'s suffixes in
    /// lexicographic order. Every symbol must be in 0 ... maxSymbol.
    static func build<T: FixedWidthInteger, P: FixedWidthInteger & SignedInteger>(
        text: UnsafeBufferPointer<T>, maxSymbol: Int, into sa: UnsafeMutableBufferPointer<P>,
        progress: (Double) -> Void = { _ in }
    ) {
        precondition(sa.count == text.count, "suffix array size must equal the text size")
        sais(text, maxSymbol, sa, progress)
    }

    private static func sais<T: FixedWidthInteger, P: FixedWidthInteger & SignedInteger>(
        _ s: UnsafeBufferPointer<T>, _ upper: Int, _ sa: UnsafeMutableBufferPointer<P>,
        _ progress: (Double) -> Void
    ) {
        let n = s.count
        if n == 0 { return }
        if n == 1 { sa[0] = 0; return }
        if n == 2 {
            if s[0] < s[1] { sa[0] = 0; sa[1] = 1 } else { sa[0] = 1; sa[1] = 0 }
            return
        }
        // isS[i]: suffix i is smaller than suffix i + 1 (S-type); the last suffix is L-type.
        let isS = UnsafeMutableBufferPointer<Bool>.allocate(capacity: n)
        defer { isS.deallocate() }
        isS[n - 1] = false
        for i in stride(from: n - 2, through: 0, by: -1) {
            isS[i] = s[i] == s[i + 1] ? isS[i + 1] : s[i] < s[i + 1]
        }
        // Bucket c spans [bucketL[c], bucketL[c + 1]); its S-type part starts at bucketS[c].
        var bucketL = [Int](repeating: 0, count: upper + 2)
        var bucketS = [Int](repeating: 0, count: upper + 1)
        for i in 0..<n {
            let c = Int(s[i])
            if isS[i] { bucketL[c + 1] += 1 } else { bucketS[c] += 1 }
        }
        for c in 0...upper {
            bucketS[c] += bucketL[c]
            bucketL[c + 1] += bucketS[c]
        }
        // bucketL[c] now holds the start of bucket c, bucketS[c] the start of its S part.

        // LMS positions: S-type with an L-type left neighbour.
        let lmsIndex = UnsafeMutableBufferPointer<P>.allocate(capacity: n)
        defer { lmsIndex.deallocate() }
        var m = 0
        for i in 0..<n {
            if i >= 1, isS[i], !isS[i - 1] { lmsIndex[i] = P(m); m += 1 } else { lmsIndex[i] = -1 }
        }
        let lms = UnsafeMutableBufferPointer<P>.allocate(capacity: max(m, 1))
        defer { lms.deallocate() }
        var j = 0
        for i in 1..<n where isS[i] && !isS[i - 1] { lms[j] = P(i); j += 1 }
        progress(0.1)

        var buf = [Int](repeating: 0, count: upper + 2)
        func induce(_ seeds: UnsafeMutableBufferPointer<P>, _ seedCount: Int) {
            for i in 0..<n { sa[i] = -1 }
            for c in 0...upper { buf[c] = bucketS[c] }
            for k in 0..<seedCount {
                let d = Int(seeds[k])
                let c = Int(s[d])
                sa[buf[c]] = P(d)
                buf[c] += 1
            }
            // L-type suffixes, left to right, starting with the last suffix (after the sentinel).
            for c in 0...upper { buf[c] = bucketL[c] }
            let last = Int(s[n - 1])
            sa[buf[last]] = P(n - 1)
            buf[last] += 1
            for i in 0..<n {
                let v = Int(sa[i])
                if v >= 1, !isS[v - 1] {
                    let c = Int(s[v - 1])
                    sa[buf[c]] = P(v - 1)
                    buf[c] += 1
                }
            }
            // S-type suffixes, right to left, filled from each bucket's end.
            for c in 0...upper + 1 { buf[c] = bucketL[c] }
            for i in stride(from: n - 1, through: 0, by: -1) {
                let v = Int(sa[i])
                if v >= 1, isS[v - 1] {
                    let c = Int(s[v - 1]) + 1
                    buf[c] -= 1
                    sa[buf[c]] = P(v - 1)
                }
            }
        }

        induce(lms, m)
        progress(0.35)
        guard m > 0 else { progress(1); return }

        // Name the LMS substrings in sorted order; equal substrings get equal names.
        let sortedLMS = UnsafeMutableBufferPointer<P>.allocate(capacity: m)
        defer { sortedLMS.deallocate() }
        j = 0
        for i in 0..<n {
            let v = Int(sa[i])
            if v >= 0, lmsIndex[v] != -1 { sortedLMS[j] = P(v); j += 1 }
        }
        let reduced = UnsafeMutableBufferPointer<P>.allocate(capacity: m)
        defer { reduced.deallocate() }
        var name = 0
        reduced[Int(lmsIndex[Int(sortedLMS[0])])] = 0
        for k in 1..<m {
            var l = Int(sortedLMS[k - 1]), r = Int(sortedLMS[k])
            let li = Int(lmsIndex[l]), ri = Int(lmsIndex[r])
            let endL = li + 1 < m ? Int(lms[li + 1]) : n
            let endR = ri + 1 < m ? Int(lms[ri + 1]) : n
            var same = endL - l == endR - r
            if same {
                while l < endL, s[l] == s[r] { l += 1; r += 1 }
                if l == n || r == n || s[l] != s[r] { same = false }
            }
            if !same { name += 1 }
            reduced[ri] = P(name)
        }
        progress(0.45)

        // Sort the LMS suffixes: recursively when names repeat, directly when all are distinct.
        let reducedSA = UnsafeMutableBufferPointer<P>.allocate(capacity: m)
        defer { reducedSA.deallocate() }
        if name + 1 < m {
            sais(UnsafeBufferPointer(reduced), name, reducedSA, { _ in })
        } else {
            for k in 0..<m { reducedSA[Int(reduced[k])] = P(k) }
        }
        for k in 0..<m { sortedLMS[k] = lms[Int(reducedSA[k])] }
        progress(0.7)
        induce(sortedLMS, m)
        progress(1)
    }
}
