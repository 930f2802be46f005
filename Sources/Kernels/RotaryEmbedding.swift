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
///
/// cos and sin of the first `tablePositions` positions are computed once, the same way: a step rotates
/// every query and key head of every token, and evaluating them per token was 2% of a decode step of
/// the bundled model.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    /// `[headDim / 2]` inverse frequencies.
    public let inverseFrequencies: [Float]
    /// Positions with precomputed angles; later ones are evaluated when applied.
    public let tablePositions: Int
    /// `[tablePositions, headDim / 2]` cos and sin of each position's angles.
    private let cosTable: [Float]
    private let sinTable: [Float]

    /// The largest table built, in positions: 2 MB at a head size of 64, whatever the model's context.
    public static let maximumTablePositions = 8192

    public init(headDim: Int, theta: Float,
                llama3Scaling: (factor: Float, lowFreqFactor: Float, highFreqFactor: Float, originalMaxPositions: Int)?,
                tablePositions: Int = 0) {
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
        let positions = max(0, min(tablePositions, Self.maximumTablePositions))
        self.tablePositions = positions
        var cosines = [Float](repeating: 0, count: positions * half)
        var sines = [Float](repeating: 0, count: positions * half)
        for position in 0..<positions {
            for i in 0..<half {
                (cosines[position * half + i], sines[position * half + i]) = Self.cosSin(position: position, inverseFrequency: inv[i])
            }
        }
        cosTable = cosines
        sinTable = sines
    }

    /// cos and sin of the f32 angle `position · inverseFrequency`, evaluated in f64 and rounded.
    @inline(__always)
    static func cosSin(position: Int, inverseFrequency: Float) -> (Float, Float) {
        let angle = Double(Float(position) * inverseFrequency)
        return (Float(cos(angle)), Float(sin(angle)))
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
        if position < tablePositions {
            cosTable.withUnsafeBufferPointer { cosines in
                sinTable.withUnsafeBufferPointer { sines in
                    rotate(x, heads: heads, cos: cosines.baseAddress! + position * half, sin: sines.baseAddress! + position * half)
                }
            }
            return
        }
        // `[headDim / 2]` cos, then `[headDim / 2]` sin.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * half) { angles in
            let cosines = angles.baseAddress!, sines = cosines + half
            for i in 0..<half {
                (cosines[i], sines[i]) = Self.cosSin(position: position, inverseFrequency: inverseFrequencies[i])
            }
            rotate(x, heads: heads, cos: cosines, sin: sines)
        }
    }

    /// Rotates each head's pairs by the angles whose `[headDim / 2]` cos and sin are given.
    @inline(__always)
    private func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        let half = headDim / 2
        for h in 0..<heads {
            let head = x + h * headDim
            for i in 0..<half {
                let a = head[i], b = head[i + half]
                head[i] = a * cos[i] - b * sin[i]
                head[i + half] = b * cos[i] + a * sin[i]
            }
        }
    }
}
