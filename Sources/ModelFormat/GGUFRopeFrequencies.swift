import Foundation

/// llama.cpp's converter does not store Llama 3.1-style RoPE scaling as metadata: it writes the per-frequency
/// divisors into a `rope_freqs.weight` tensor of [head_dim / 2] floats. This recovers an equivalent
/// `RopeScaling(type: "llama3", ...)` so GGUF and safetensors checkpoints configure RoPE the same way.
enum GGUFRopeFrequencies {
    /// The llama3 divisor of each frequency (transformers `_compute_llama3_parameters`).
    static func llama3Divisors(_ scaling: RopeScaling, theta: Float, headDim: Int) -> [Float] {
        let lowWavelength = Double(scaling.originalMaxPositionEmbeddings) / Double(scaling.lowFreqFactor)
        let highWavelength = Double(scaling.originalMaxPositionEmbeddings) / Double(scaling.highFreqFactor)
        return (0..<(headDim / 2)).map { i in
            let wavelength = 2 * Double.pi * pow(Double(theta), Double(2 * i) / Double(headDim))
            if wavelength < highWavelength { return 1 }
            if wavelength > lowWavelength { return scaling.factor }
            let smooth = (Double(scaling.originalMaxPositionEmbeddings) / wavelength - Double(scaling.lowFreqFactor))
                / Double(scaling.highFreqFactor - scaling.lowFreqFactor)
            return Float(1 / ((1 - smooth) / Double(scaling.factor) + smooth))
        }
    }

    /// A llama3 scaling that reproduces `divisors` (within 1e-3 relative), or nil when all are 1.
    /// Tries Llama 3.1's constants (low 1, high 4) first, then fits low/high from the smoothed frequencies.
    /// - Throws: `unsupportedFeature` when no llama3 scaling matches the tensor.
    static func scaling(divisors: [Float], theta: Float, headDim: Int, originalContext: Int?, file: String) throws -> RopeScaling? {
        guard headDim > 0, divisors.count == headDim / 2, let factor = divisors.max() else {
            throw ModelFormatError(.wrongShape, file: file, "tensor 'rope_freqs.weight' has \(divisors.count) values; expected \(headDim / 2) (head_dim / 2)")
        }
        guard divisors.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw ModelFormatError(.inconsistentConfig, file: file, "tensor 'rope_freqs.weight' holds a value that is not a positive number; expected RoPE divisors >= 1")
        }
        if divisors.allSatisfy({ abs($0 - 1) < 1e-6 }) { return nil }
        let original = originalContext ?? 8192
        var candidates = [RopeScaling(type: "llama3", factor: factor, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: original)]
        if let fitted = fit(divisors: divisors, factor: factor, theta: theta, headDim: headDim, original: original) {
            candidates.append(fitted)
        }
        for candidate in candidates where matches(candidate, divisors: divisors, theta: theta, headDim: headDim) {
            return candidate
        }
        throw ModelFormatError(.unsupportedFeature, file: file, "tensor 'rope_freqs.weight' holds RoPE factors \(divisors.prefix(8))... that no llama3 scaling reproduces")
    }

    /// In the smoothed band, 1/divisor = (1 - s)/factor + s with s = original/(wavelength (high - low)) - low/(high - low),
    /// which is linear in 1/wavelength: two smoothed frequencies give high - low and low.
    private static func fit(divisors: [Float], factor: Float, theta: Float, headDim: Int, original: Int) -> RopeScaling? {
        var points: [(inverseWavelength: Double, smooth: Double)] = []
        for (i, divisor) in divisors.enumerated() where divisor > 1 + 1e-4 && divisor < factor - 1e-4 {
            let wavelength = 2 * Double.pi * pow(Double(theta), Double(2 * i) / Double(headDim))
            let smooth = (1 / Double(divisor) - 1 / Double(factor)) / (1 - 1 / Double(factor))
            points.append((1 / wavelength, smooth))
        }
        guard let first = points.first, let last = points.last else {
            return stepFit(divisors: divisors, factor: factor, theta: theta, headDim: headDim)
        }
        guard points.count >= 2, last.inverseWavelength != first.inverseWavelength else {
            // One smoothed frequency: low 1 / high 4 with the original context that puts it there.
            let original = (3 * first.smooth + 1) / first.inverseWavelength
            guard original.isFinite, original >= 1, original < 1e12 else { return nil }
            return RopeScaling(type: "llama3", factor: factor, lowFreqFactor: 1, highFreqFactor: 4,
                               originalMaxPositionEmbeddings: Int(original.rounded()))
        }
        let slope = (last.smooth - first.smooth) / (last.inverseWavelength - first.inverseWavelength)  // original / (high - low)
        let intercept = slope * first.inverseWavelength - first.smooth  // low / (high - low)
        guard slope > 0 else { return nil }
        let span = Double(original) / slope
        let low = intercept * span
        guard low > 0, low.isFinite, span.isFinite else { return nil }
        return RopeScaling(type: "llama3", factor: factor, lowFreqFactor: Float(low), highFreqFactor: Float(low + span),
                           originalMaxPositionEmbeddings: original)
    }

    /// No smoothed frequency: any band between the last unscaled and the first scaled wavelength works.
    private static func stepFit(divisors: [Float], factor: Float, theta: Float, headDim: Int) -> RopeScaling? {
        guard let firstScaled = divisors.firstIndex(where: { $0 > 1 + 1e-4 }), firstScaled > 0 else { return nil }
        let wavelength = { (i: Int) in 2 * Double.pi * pow(Double(theta), Double(2 * i) / Double(headDim)) }
        let (unscaled, scaled) = (wavelength(firstScaled - 1), wavelength(firstScaled))
        // high wavelength = original / high must exceed `unscaled`; low wavelength = original / low must stay below `scaled`.
        let original = (scaled * 0.999).rounded(.down)
        let high = original / unscaled * 0.999
        guard original.isFinite, original >= 1, original < 1e12, high.isFinite, high > 1 else { return nil }
        return RopeScaling(type: "llama3", factor: factor, lowFreqFactor: 1, highFreqFactor: Float(high),
                           originalMaxPositionEmbeddings: Int(original))
    }

    private static func matches(_ scaling: RopeScaling, divisors: [Float], theta: Float, headDim: Int) -> Bool {
        let predicted = llama3Divisors(scaling, theta: theta, headDim: headDim)
        return zip(predicted, divisors).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($1)) }
    }
}
