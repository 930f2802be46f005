#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rotary position embedding with transformers' semantics (`LlamaRotaryEmbedding`, "rotate_half").
///
/// Numerics follow transformers in f32: `inv_freq[i] = 1 / theta^(2i/d)` computed with f32 `pow`;
/// llama3 scaling as `_compute_llama3_parameters` (wavelengths, low/high frequency bands, smooth
/// interpolation), all in f32; at run time `angle = Float(position) * inv_freq[i]` rounded to f32
/// (what the f32 matmul `inv_freq @ position_ids` gives), then cos/sin of that f32 angle (evaluated
/// in f64 and rounded, within an ulp of torch's f32 cos/sin). Pairs are `(i, i + d/2)`:
/// `x'[i] = x[i]·cos - x[i+d/2]·sin`, `x'[i+d/2] = x[i+d/2]·cos + x[i]·sin`.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    /// `[headDim / 2]` inverse frequencies.
    public let inverseFrequencies: [Float]

    public init(headDim: Int, theta: Float,
                llama3Scaling: (factor: Float, lowFreqFactor: Float, highFreqFactor: Float, originalMaxPositions: Int)?) {
        precondition(headDim > 0 && headDim % 2 == 0, "RotaryEmbedding: head_dim \(headDim) must be even")
        self.headDim = headDim
        let half = headDim / 2
        var inv = (0..<half).map { i -> Float in
            let exponent = Float(2 * i) / Float(headDim)
            return 1 / powf(theta, exponent)
        }
        if let s = llama3Scaling {
            inv = Self.llama3(inv, factor: s.factor, low: s.lowFreqFactor, high: s.highFreqFactor,
                              originalMax: Float(s.originalMaxPositions))
        }
        inverseFrequencies = inv
    }

    /// transformers `_compute_llama3_parameters`, op for op in f32.
    private static func llama3(_ inv: [Float], factor: Float, low: Float, high: Float, originalMax: Float) -> [Float] {
        let lowFreqWavelen = originalMax / low
        let highFreqWavelen = originalMax / high
        return inv.map { f in
            let wavelen = Float(2 * Double.pi) * (1 / f)
            let scaled = wavelen > lowFreqWavelen ? f / factor : f
            let isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen)
            guard isMedium else { return scaled }
            let smooth = (originalMax * (1 / wavelen) - low) / (high - low)
            return (1 - smooth) * scaled / factor + smooth * scaled
        }
    }

    /// Rotates `heads` consecutive heads of `headDim` floats in `x` for `position`.
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        let half = headDim / 2
        let p = Float(position)
        inverseFrequencies.withUnsafeBufferPointer { inv in
            for i in 0..<half {
                let angle = Double(p * inv[i])
                let c = Float(cos(angle)), s = Float(sin(angle))
                for h in 0..<heads {
                    let head = x + h * headDim
                    let a = head[i], b = head[i + half]
                    head[i] = a * c - b * s
                    head[i + half] = b * c + a * s
                }
            }
        }
    }
}
