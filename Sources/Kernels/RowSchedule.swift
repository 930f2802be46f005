/// How `MatMul` splits a matrix's rows among threads: guided scheduling, in levels of halving size
/// (level 0 hands each thread 1/(2·threads) of the rows, level 1 half that, ...), so threads start on
/// long contiguous streams that keep the prefetchers busy and finish within a small chunk of each
/// other even when one started late or shares its core. Boundaries fall on multiples of 16 rows, so
/// no two threads write the same 64-byte line of an output row. At most 4 levels: every chunk start
/// costs a prefetch ramp-up (~1 µs).
public struct RowSchedule: Sendable {
    public let rows: Int
    public let threads: Int
    public let levels: Int

    /// - Parameter minimumRows: the smallest chunk worth handing out (waking a thread costs ~µs).
    public init(rows: Int, threads: Int, minimumRows: Int) {
        self.rows = rows
        guard rows >= 2 * minimumRows, threads > 1 else {
            // Too little work to share: one chunk, run on the calling thread.
            self.threads = 1
            levels = 1
            return
        }
        self.threads = threads
        var levels = 1
        while levels < 4, (rows >> (levels + 1)) / threads >= minimumRows { levels += 1 }
        self.levels = levels
    }

    /// Chunks to hand to `ComputePool.parallelFor`.
    public var count: Int { levels * threads }

    /// Rows of chunk `i` (`0..<count`); may be empty for tiny matrices.
    public func bounds(_ i: Int) -> Range<Int> {
        boundary(i)..<boundary(i + 1)
    }

    private func boundary(_ i: Int) -> Int {
        if i >= count { return rows }
        let level = i / threads, k = i % threads
        let start = rows - (rows >> level)
        let end = level == levels - 1 ? rows : rows - (rows >> (level + 1))
        let raw = start + (end - start) * k / threads
        return raw / 16 * 16
    }
}
