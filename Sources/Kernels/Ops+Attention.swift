import CKernels

extension Ops {
    /// scores[s] = scale · (q · keys[s]) for `count` consecutive key rows of `headDim` floats.
    @inline(__always)
    public static func attentionScores(_ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, count: Int, headDim: Int,
                                       scale: Float, into scores: UnsafeMutablePointer<Float>) {
        ck_attention_scores(q, keys, count, headDim, scale, scores)
    }

    /// out += Σ p[s] · values[s] over `count` consecutive value rows of `headDim` floats.
    @inline(__always)
    public static func attentionAccumulate(_ p: UnsafePointer<Float>, values: UnsafePointer<Float>, count: Int, headDim: Int,
                                           into out: UnsafeMutablePointer<Float>) {
        ck_attention_accumulate(p, values, count, headDim, out)
    }

    /// Requests `count` floats at `p` ahead of use, into L1 (`nearest`) or L2.
    @inline(__always)
    public static func prefetch(_ p: UnsafePointer<Float>, count: Int, nearest: Bool) {
        ck_prefetch(p, count * MemoryLayout<Float>.size, nearest ? 1 : 0)
    }
}
