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

    /// Marks the tokens whose ancestors are exactly the slots just below theirs.
    func markDenseTokens(_ batch: Batch, cache: PagedKVCache) {
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

    /// attention[i, h] = softmax(q[i, h] · K[visible]ᵀ / sqrt(headDim)) · V[visible], for every token and head.
    /// Work is split into one contiguous range of (token, head) pairs per pool thread, each with its own scores row.
    func attend(layer: Int, batch: Batch, cache: PagedKVCache) {
        let config = configuration
        let heads = config.numAttentionHeads
        let total = batch.count * heads
        let threads = pool.threadCount
        pool.parallelFor(threads) { thread in
            let start = total * thread / threads
            let end = total * (thread + 1) / threads
            let scores = buffers.scores + thread * buffers.scoresStride
            for item in start..<end {
                attendOne(token: item / heads, head: item % heads, layer: layer, batch: batch, cache: cache, scores: scores)
            }
        }
    }

    private func attendOne(token i: Int, head: Int, layer: Int, batch: Batch, cache: PagedKVCache,
                           scores: UnsafeMutablePointer<Float>) {
        let config = configuration
        let headDim = config.headDim
        let kvHead = head / (config.numAttentionHeads / config.numKeyValueHeads)
        let sequence = Int(batch.sequences[i])
        let slot = Int(batch.cacheSlots[i])
        let query = buffers.q + (i * config.numAttentionHeads + head) * headDim
        let output = buffers.attention + (i * config.numAttentionHeads + head) * headDim
        let scale = 1 / Float(headDim).squareRoot()
        let keyBase = cache.base(layer: layer, values: false)
        let valueBase = cache.base(layer: layer, values: true)
        // Mistral's sliding window: a token sees the last `window` positions, itself included.
        let position = Int(batch.positions[i])
        let firstVisible = config.slidingWindow.map { max(0, position - $0 + 1) } ?? 0
        // Visible: slots [first, contextEnd) of the cache, then (for sparse tree nodes) the ancestors.
        let dense = buffers.dense[i]
        let contextEnd = dense ? slot + 1 : cache.length(of: sequence)
        let first = min(firstVisible, contextEnd)

        cache.withTable(sequence) { table in
            /// Calls `body(rowOffset, rows, scoreIndex)` for each run of visible rows inside one block.
            func forEachRun(_ body: (_ offset: Int, _ rows: Int, _ scoreIndex: Int) -> Void) -> Int {
                var count = 0
                var s = first
                while s < contextEnd {
                    let run = min(cache.blockSize - s % cache.blockSize, contextEnd - s)
                    body(cache.rowOffset(table: table, slot: s, head: kvHead), run, count)
                    count += run
                    s += run
                }
                var ancestor = dense ? -1 : i
                while ancestor >= 0 {
                    body(cache.rowOffset(table: table, slot: Int(batch.cacheSlots[ancestor]), head: kvHead), 1, count)
                    count += 1
                    ancestor = Int(batch.parents[ancestor])
                }
                return count
            }
            let count = forEachRun { offset, rows, index in
                Ops.attentionScores(query, keys: keyBase + offset, count: rows, headDim: headDim, scale: scale,
                                    into: scores + index)
            }
            Ops.softmax(scores, count: count)
            output.update(repeating: 0, count: headDim)
            _ = forEachRun { offset, rows, index in
                Ops.attentionAccumulate(scores + index, values: valueBase + offset, count: rows, headDim: headDim,
                                        into: output)
            }
        }
    }
}
