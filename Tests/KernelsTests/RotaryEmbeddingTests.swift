import Kernels
import Testing

/// Expected values come from a numpy transcription of transformers' `_compute_default_rope_parameters`,
/// `_compute_llama3_parameters` and `apply_rotary_pos_emb` in float32 (see the numbers' comments).
@Suite struct RotaryEmbeddingTests {
    @Test func defaultInverseFrequencies() {
        // numpy: 1 / (np.float32(10000) ** (np.arange(0, 64, 2).astype(np.float32) / 64))
        let rope = RotaryEmbedding(headDim: 64, theta: 10000, llama3Scaling: nil)
        let expected: [(Int, Float)] = [(0, 1.0), (1, 0.7498942017555237), (5, 0.23713739216327667),
                                        (17, 0.007498942315578461), (31, 0.0001333521504420787)]
        for (i, value) in expected {
            #expect(abs(rope.inverseFrequencies[i] - value) <= 2e-7 * value, "inv_freq[\(i)]")
        }
    }

    /// Llama 3.2 parameters: theta 500000, factor 32, low 1, high 4, original 8192 — indices 0-14 keep
    /// their frequency, 15-17 are interpolated, 18-31 are divided by the factor.
    static let llama3Expected: [Float] = [
        1.0, 0.6636012196540833, 0.44036662578582764, 0.2922278046607971, 0.193922758102417,
        0.12868738174438477, 0.08539710193872452, 0.05666961893439293, 0.03760603070259094,
        0.02495540864765644, 0.016560440883040428, 0.010989529080688953, 0.00729266507551074,
        0.00483942124992609, 0.0032114461064338684, 0.0012905480107292533, 0.000429556705057621,
        9.708286233944818e-05, 1.9461638657958247e-05, 1.2914768376504071e-05, 8.570255886297673e-06,
        5.687231805495685e-06, 3.7740544485131977e-06, 2.5044669200724456e-06, 1.6619676443951903e-06,
        1.1028836297555245e-06, 7.318749339901842e-07, 4.856731266045244e-07, 3.2229328894572973e-07,
        2.1387423032592778e-07, 1.4192720243499934e-07, 9.41830720080361e-08,
    ]

    static let llama3 = RotaryEmbedding(headDim: 64, theta: 500_000,
                                        llama3Scaling: (factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192))

    @Test func llama3ScaledInverseFrequencies() {
        let inv = Self.llama3.inverseFrequencies
        #expect(inv.count == 32)
        for i in 0..<32 {
            #expect(abs(inv[i] - Self.llama3Expected[i]) <= 1e-6 * Self.llama3Expected[i], "inv_freq[\(i)]: \(inv[i])")
        }
    }

    @Test func rotatesHalvesAtAPosition() {
        // x = arange(128) * 0.01 - 0.3 as two heads of 64, position 1234:
        // out = x * cos(cat(a, a)) + rotate_half(x) * sin(cat(a, a)), a = float32(1234 * inv_freq)
        var x = (0..<128).map { Float($0) * Float(0.01) - Float(0.3) }
        x.withUnsafeMutableBufferPointer { Self.llama3.apply($0.baseAddress!, heads: 2, position: 1234) }
        let expected: [(Int, Float)] = [(0, 0.22752664983272552), (5, -0.03190521150827408), (31, 0.009961637668311596),
                                        (32, -0.19654929637908936), (40, -0.2200506329536438), (63, 0.3300011456012726),
                                        (64, -0.6687793731689453), (100, 0.7957796454429626), (127, 0.9700754880905151)]
        for (i, value) in expected {
            #expect(abs(x[i] - value) <= 2e-6, "x[\(i)] = \(x[i]), expected \(value)")
        }
    }

    @Test func positionZeroIsIdentity() {
        let original = randomActivations(count: 3 * 16, seed: 9)
        var x = original
        let rope = RotaryEmbedding(headDim: 16, theta: 10000, llama3Scaling: nil)
        x.withUnsafeMutableBufferPointer { rope.apply($0.baseAddress!, heads: 3, position: 0) }
        #expect(x == original)
    }

    /// The precomputed angles rotate exactly as evaluating them per token does, and positions past the
    /// table still rotate.
    @Test func tabledPositionsRotateBitForBitAsEvaluatedOnes() {
        let evaluated = RotaryEmbedding(headDim: 64, theta: 500_000,
                                        llama3Scaling: (factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192))
        let tabled = RotaryEmbedding(headDim: 64, theta: 500_000,
                                     llama3Scaling: (factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192),
                                     tablePositions: 1300)
        #expect(tabled.tablePositions == 1300)
        for position in [0, 1, 17, 1234, 1299, 1300, 5000] {
            let original = randomActivations(count: 4 * 64, seed: UInt64(position + 1))
            var a = original, b = original
            a.withUnsafeMutableBufferPointer { evaluated.apply($0.baseAddress!, heads: 4, position: position) }
            b.withUnsafeMutableBufferPointer { tabled.apply($0.baseAddress!, heads: 4, position: position) }
            #expect(a == b, "position \(position)")
            if position > 0 { #expect(a != original, "position \(position)") }
        }
    }
}
