import CKernels

/// Element-wise f32 operations of a Llama-style transformer step. Pointers may not overlap unless
/// a parameter says so.
public enum Ops {
    private static let isa = KernelISA.detected.code

    /// `out = x / sqrt(mean(x²) + eps) * weight` in transformers' `LlamaRMSNorm` order (normalise in
    /// f32, then multiply by the weight); the mean of squares is accumulated in f64. `out` may be `x`.
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float, count: Int,
                               into out: UnsafeMutablePointer<Float>) {
        ck_rmsnorm(isa, x, weight, eps, count, out)
    }

    /// `gate = silu(gate) * up`, `silu(g) = g / (1 + exp(-g))` (the gated MLP between up/gate and down).
    public static func siluGate(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        ck_silu_gate(gate, up, count)
    }

    /// In-place softmax, max-subtracted; the normaliser is summed in f64.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        ck_softmax(x, count)
    }

    /// `out = a + b` (residual connections); `out` may be `a` or `b`.
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                           count: Int) {
        ck_add(isa, a, b, out, count)
    }

    /// `x *= alpha`.
    public static func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count: Int) {
        ck_scale(isa, alpha, x, count)
    }

    /// `Σ a[i] * b[i]` (attention scores q·k).
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        ck_dot(isa, a, b, count)
    }

    /// `y += alpha * x` (attention output: weighted sum of values).
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        ck_axpy(isa, alpha, x, y, count)
    }

    /// Index of the largest element (the first one on ties); 0 for an empty input.
    public static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
        count > 0 ? Int(ck_argmax(x, count)) : 0
    }
}
