import Kernels

// Attention over the paged cache with tree masks.
//
// Token i of sequence s sees the committed slots [0, L_s) and the slots of its ancestors among the
// step's tokens (itself included). A token whose ancestors sit exactly in the slots below its own
// (a prompt chunk, a decode token, the first branch of a tree) is "dense": it sees [0, slot] and needs
// no ancestor walk; other tree nodes walk their parent links (a few levels at most).

extension TransformerModel {
    /// Writes the step's keys and values into their cache slots, for this layer.
    func storeKeysAndValues(layer: Int, batch: Batch, cache: PagedKVCache) {
        let config = configuration
        let headDim = config.headDim
        let kvDim = config.numKeyValueHeads * headDim
        let keyBase = cache.base(layer: layer, values: false)
        let valueBase = cache.base(layer: layer, values: true)
        for i in 0..<batch.count {
            let slot = Int(batch.cacheSlots[i])
            cache.withTable(Int(batch.sequences[i])) { table in
                for head in 0..<config.numKeyValueHeads {
                    cache.row(keyBase, table: table, slot: slot, head: head)
                        .update(from: buffers.k + i * kvDim + head * headDim, count: headDim)
                    cache.row(valueBase, table: table, slot: slot, head: head)
                        .update(from: buffers.v + i * kvDim + head * headDim, count: headDim)
                }
            }
        }
    }

    /// Marks the tokens whose ancestors are exactly the slots just below theirs, and splits the batch
    /// into attention runs: consecutive tokens of one sequence, at most a tile long.
    func markDenseTokens(_ batch: Batch, cache: PagedKVCache) {
        buffers.attentionRuns.removeAll(keepingCapacity: true)
        var start = 0
        for i in 1...batch.count where i == batch.count || batch.sequences[i] != batch.sequences[start]
            || i - start == RunBuffers.attentionTile {
            buffers.attentionRuns.append((start, i))
            start = i
        }
        for i in 0..<batch.count {
            let parent = Int(batch.parents[i])
            let slot = Int(batch.cacheSlots[i])
            if parent < 0 {
                buffers.dense[i] = slot == cache.length(of: Int(batch.sequences[i]))
            } else {
                buffers.dense[i] = buffers.dense[parent] && Int(batch.cacheSlots[parent]) == slot - 1
            }
        }
    }

    /// Cache blocks requested ahead of the attention loop: far enough that a block's rows arrive while
    /// the blocks before it are scored (about 60 ns a block, a memory fetch takes longer). A 16-sequence
    /// decode step at 250 tokens of context (1B shape): 135-150 ms with 4 or 8 ahead, 146-177 with none.
    static let blocksAhead = 4

    /// attention[i, h] = softmax(q[i, h] · K[visible]ᵀ / sqrt(headDim)) · V[visible], for every token and head.
    ///
    /// Work items are (run of one sequence's consecutive tokens, KV head): all tokens of the run and all
    /// query heads sharing the KV head are scored against each cached key block while it is in cache, so
    /// a step that verifies a draft tree reads the sequence's keys and values once, not once per token.
    func attend(layer: Int, batch: Batch, cache: PagedKVCache) {
        let kvHeads = configuration.numKeyValueHeads
        let runs = buffers.attentionRuns
        pool.parallelFor(runs.count * kvHeads) { item, thread in
            let run = runs[item / kvHeads]
            attendRun(tokens: run.start..<run.end, kvHead: item % kvHeads, layer: layer, batch: batch, cache: cache,
                      scores: buffers.scores + thread * buffers.scoresPerThread)
        }
    }

    private func attendRun(tokens: Range<Int>, kvHead: Int, layer: Int, batch: Batch, cache: PagedKVCache,
                           scores: UnsafeMutablePointer<Float>) {
        let config = configuration
        let headDim = config.headDim
        let group = config.numAttentionHeads / config.numKeyValueHeads
        let scale = 1 / Float(headDim).squareRoot()
        let sequence = Int(batch.sequences[tokens.lowerBound])
        let committed = cache.length(of: sequence)
        let keyBase = cache.base(layer: layer, values: false)
        let valueBase = cache.base(layer: layer, values: true)
        let stride = buffers.scoresStride
        // Each token sees cache slots [first, end) (a sliding window may raise `first`), then its
        // ancestors when it is a sparse tree node. Rows of `scores`: (token - lowerBound) * group + head.
        // first, end and the running score count of each token, on the stack (no allocation per step).
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * tokens.count) { bounds in
        let first = UnsafeMutableBufferPointer(rebasing: bounds[0..<tokens.count])
        let end = UnsafeMutableBufferPointer(rebasing: bounds[tokens.count..<(2 * tokens.count)])
        let counts = UnsafeMutableBufferPointer(rebasing: bounds[(2 * tokens.count)...])
        for i in tokens {
            let dense = buffers.dense[i]
            end[i - tokens.lowerBound] = dense ? Int(batch.cacheSlots[i]) + 1 : committed
            let window = config.slidingWindow.map { max(0, Int(batch.positions[i]) - $0 + 1) } ?? 0
            first[i - tokens.lowerBound] = min(window, end[i - tokens.lowerBound])
        }
        func query(_ i: Int, _ h: Int) -> UnsafeMutablePointer<Float> {
            buffers.q + (i * config.numAttentionHeads + kvHead * group + h) * headDim
        }
        func row(_ i: Int, _ h: Int) -> UnsafeMutablePointer<Float> {
            scores + ((i - tokens.lowerBound) * group + h) * stride
        }

        cache.withTable(sequence) { table in
            /// Visits every visible row in the same order in both passes: `visit(token, rowOffset, rows, index)`.
            /// `ahead(offset, rows)` is told each block's rows `Self.blocksAhead` blocks before it is
            /// visited: blocks sit in any order, so the hardware prefetchers cannot find them, and a
            /// decode step with one token per sequence would otherwise wait on memory at every block.
            func forEachVisible(ahead: (_ offset: Int, _ rows: Int) -> Void,
                                _ visit: (_ token: Int, _ offset: Int, _ rows: Int, _ index: Int) -> Void) {
                counts.update(repeating: 0)
                var s = first.min() ?? 0
                let high = end.max() ?? 0
                let blockSize = cache.blockSize
                func prefetch(block: Int) {
                    let start = max(block * blockSize, s)
                    guard start < high else { return }
                    ahead(cache.rowOffset(table: table, slot: start, head: kvHead), min((block + 1) * blockSize, high) - start)
                }
                for block in (s / blockSize)..<(s / blockSize + Self.blocksAhead) { prefetch(block: block) }
                while s < high {
                    let length = min(blockSize - s % blockSize, high - s)
                    let offset = cache.rowOffset(table: table, slot: s, head: kvHead)
                    prefetch(block: s / blockSize + Self.blocksAhead)
                    for i in tokens {
                        let t = i - tokens.lowerBound
                        let a = max(s, first[t]), b = min(s + length, end[t])
                        guard a < b else { continue }
                        visit(i, offset + (a - s) * headDim, b - a, counts[t])
                        counts[t] += b - a
                    }
                    s += length
                }
                for i in tokens where !buffers.dense[i] {
                    var ancestor = i
                    while ancestor >= 0 {
                        let offset = cache.rowOffset(table: table, slot: Int(batch.cacheSlots[ancestor]), head: kvHead)
                        visit(i, offset, 1, counts[i - tokens.lowerBound])
                        counts[i - tokens.lowerBound] += 1
                        ancestor = Int(batch.parents[ancestor])
                    }
                }
            }
            // Keys of the blocks ahead into L1; their values towards L2 for the second pass.
            forEachVisible(ahead: { offset, rows in
                Ops.prefetch(keyBase + offset, count: rows * headDim, nearest: true)
                Ops.prefetch(valueBase + offset, count: rows * headDim, nearest: false)
            }) { i, offset, rows, index in
                for h in 0..<group {
                    Ops.attentionScores(query(i, h), keys: keyBase + offset, count: rows, headDim: headDim, scale: scale,
                                        into: row(i, h) + index)
                }
            }
            for i in tokens {
                for h in 0..<group {
                    Ops.softmax(row(i, h), count: counts[i - tokens.lowerBound])
                    buffers.attention.advanced(by: (i * config.numAttentionHeads + kvHead * group + h) * headDim)
                        .update(repeating: 0, count: headDim)
                }
            }
            forEachVisible(ahead: { offset, rows in
                Ops.prefetch(valueBase + offset, count: rows * headDim, nearest: true)
            }) { i, offset, rows, index in
                for h in 0..<group {
                    let output = buffers.attention + (i * config.numAttentionHeads + kvHead * group + h) * headDim
                    Ops.attentionAccumulate(row(i, h) + index, values: valueBase + offset, count: rows, headDim: headDim,
                                            into: output)
                }
            }
        }
        }
    }
}
