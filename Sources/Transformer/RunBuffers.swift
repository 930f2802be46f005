/// Activations of one step, allocated once for the largest step (`maxTokens`) so that no step allocates.
final class RunBuffers {
    let maxTokens: Int
    let x: UnsafeMutablePointer<Float>        // residual stream [n, dim]
    let xb: UnsafeMutablePointer<Float>       // normed input of a sub-layer [n, dim]
    let q: UnsafeMutablePointer<Float>        // queries [n, heads * headDim]
    let k: UnsafeMutablePointer<Float>        // keys [n, kvHeads * headDim]
    let v: UnsafeMutablePointer<Float>        // values [n, kvHeads * headDim]
    let attention: UnsafeMutablePointer<Float> // attention output [n, heads * headDim]
    let delta: UnsafeMutablePointer<Float>    // o_proj / down_proj output before the residual add [n, dim]
    let hidden: UnsafeMutablePointer<Float>   // gate, then silu(gate) * up [n, ffn]
    let up: UnsafeMutablePointer<Float>       // up projection [n, ffn]
    let headInput: UnsafeMutablePointer<Float> // normed rows that want logits [m, dim]
    let logits: UnsafeMutablePointer<Float>   // [m, vocab]
    /// Per-thread attention scores [threads, attentionTile * queryGroup, maxContext + maxTokens]: one row
    /// per (token, query head) of the tile a thread works on.
    let scores: UnsafeMutablePointer<Float>
    let scoresStride: Int
    let scoresPerThread: Int
    /// Tokens of one sequence whose attention is computed together, reading each key/value block once.
    static let attentionTile = 16
    /// This step's attention runs (batch index ranges), computed once per step, reused by every layer.
    var attentionRuns: [(start: Int, end: Int)] = []
    /// Per-token flag: its ancestors are exactly the slots just below its own (a chain). [n]
    let dense: UnsafeMutablePointer<Bool>
    private let all: [UnsafeMutableRawPointer]

    init(maxTokens: Int, maxContext: Int, threads: Int, dim: Int, queryDim: Int, kvDim: Int, ffn: Int, vocab: Int,
         queryGroup: Int) {
        self.maxTokens = maxTokens
        func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            buffer.initialize(repeating: 0, count: max(count, 1))
            return buffer
        }
        x = floats(maxTokens * dim)
        xb = floats(maxTokens * dim)
        q = floats(maxTokens * queryDim)
        k = floats(maxTokens * kvDim)
        v = floats(maxTokens * kvDim)
        attention = floats(maxTokens * queryDim)
        delta = floats(maxTokens * dim)
        hidden = floats(maxTokens * ffn)
        up = floats(maxTokens * ffn)
        headInput = floats(maxTokens * dim)
        logits = floats(maxTokens * vocab)
        scoresStride = maxContext + maxTokens
        scoresPerThread = Self.attentionTile * queryGroup * scoresStride
        scores = floats(threads * scoresPerThread)
        dense = .allocate(capacity: maxTokens)
        dense.initialize(repeating: false, count: maxTokens)
        attentionRuns.reserveCapacity(maxTokens)
        all = [x, xb, q, k, v, attention, delta, hidden, up, headInput, logits, scores]
            .map { UnsafeMutableRawPointer($0) } + [UnsafeMutableRawPointer(dense)]
    }

    deinit {
        for pointer in all { pointer.deallocate() }
    }
}
