import Foundation
import ModelFormat

/// Writes a synthetic checkpoint tensor by tensor (a 1B model never sits in memory whole).
struct SynthWriter {
    let configuration: ModelConfiguration
    let dtype: DType
    /// Produces tensor `name` of `shape` as rows of floats, one row at a time.
    private let fillRow: (_ name: String, _ row: Int, _ into: UnsafeMutableBufferPointer<Float>) -> Void

    /// Random weights (uniform with the standard deviation 0.02 that Llama initialisation uses; norms 1).
    init(random shape: SynthShape, dtype: DType, seed: UInt64) {
        let headDim = shape.hidden / shape.heads
        configuration = ModelConfiguration(
            architecture: .llama, hiddenSize: shape.hidden, intermediateSize: shape.ffn,
            numHiddenLayers: shape.layers, numAttentionHeads: shape.heads, numKeyValueHeads: shape.kvHeads,
            headDim: headDim, vocabSize: shape.vocab, maxPositionEmbeddings: 2048, rmsNormEps: 1e-5,
            ropeTheta: 10000, ropeScaling: nil, tieWordEmbeddings: false, attentionBias: false,
            slidingWindow: nil, bosTokenID: 1, eosTokenIDs: [2])
        self.dtype = dtype
        fillRow = { name, row, buffer in
            if name.hasSuffix("norm.weight") {
                buffer.update(repeating: 1)
                return
            }
            // A counter-based generator: any row can be produced independently and reproducibly.
            var state = seed &+ UInt64(truncatingIfNeeded: name.hashValueStable) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(row) &* 0xD1B5_4A32_D192_ED03
            let scale: Float = 0.02 * 3.0.squareRoot().float / Float(1 << 23)
            for i in buffer.indices {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                buffer[i] = Float(Int32(truncatingIfNeeded: state >> 32) >> 8) * scale
            }
        }
    }

    /// The source model's weights in the leading rows and columns of the larger shape.
    init(embedding source: ModelCheckpoint, into shape: SynthShape, dtype: DType) throws {
        let small = source.configuration
        guard shape.hidden >= small.hiddenSize, shape.hidden % small.headDim == 0, shape.ffn >= small.intermediateSize,
              shape.layers >= small.numHiddenLayers else {
            throw CLIError("cannot embed \(source.path) (hidden \(small.hiddenSize), ffn \(small.intermediateSize), \(small.numHiddenLayers) layers, head_dim \(small.headDim)) into hidden \(shape.hidden), ffn \(shape.ffn), \(shape.layers) layers: each must be at least as large and hidden a multiple of head_dim")
        }
        let heads = shape.hidden / small.headDim
        let group = small.numAttentionHeads / small.numKeyValueHeads
        guard heads % group == 0 else {
            throw CLIError("\(heads) heads cannot keep \(source.path)'s grouping of \(group) query heads per KV head")
        }
        let ratio = Float(shape.hidden) / Float(small.hiddenSize)
        var config = small
        config.hiddenSize = shape.hidden
        config.intermediateSize = shape.ffn
        config.numHiddenLayers = shape.layers
        config.numAttentionHeads = heads
        config.numKeyValueHeads = heads / group
        // The wider residual stream holds the same values plus zeros: its mean square is smaller by D/D',
        // which epsilon x D/D' and weights x sqrt(D/D') undo exactly.
        config.rmsNormEps = small.rmsNormEps / ratio
        configuration = config
        self.dtype = dtype
        let normScale = (1 / ratio).squareRoot()
        var cache: [String: (values: [Float], rows: Int, columns: Int)] = [:]
        fillRow = { name, row, buffer in
            buffer.update(repeating: 0)
            guard source.hasTensor(name), let tensor = try? source.tensor(name) else { return }
            if cache[name] == nil {
                cache = [name: (tensor.floats(), tensor.shape[0], tensor.shape.count > 1 ? tensor.shape[1] : 1)]
            }
            let (values, rows, columns) = cache[name]!
            if tensor.shape.count == 1 {
                guard row == 0 else { return }
                let scale: Float = name.hasSuffix("norm.weight") ? normScale : 1
                for i in 0..<rows { buffer[i] = values[i] * scale }
            } else if row < rows {
                for i in 0..<columns { buffer[i] = values[row * columns + i] }
            }
        }
    }

    /// Every tensor in Hugging Face order with its shape.
    var specs: [SafetensorsWriter.TensorSpec] {
        let c = configuration
        let q = c.numAttentionHeads * c.headDim
        let kv = c.numKeyValueHeads * c.headDim
        var specs = [SafetensorsWriter.TensorSpec(name: "model.embed_tokens.weight", dtype: dtype, shape: [c.vocabSize, c.hiddenSize])]
        for layer in 0..<c.numHiddenLayers {
            let p = "model.layers.\(layer)."
            specs += [
                .init(name: p + "input_layernorm.weight", dtype: dtype, shape: [c.hiddenSize]),
                .init(name: p + "self_attn.q_proj.weight", dtype: dtype, shape: [q, c.hiddenSize]),
                .init(name: p + "self_attn.k_proj.weight", dtype: dtype, shape: [kv, c.hiddenSize]),
                .init(name: p + "self_attn.v_proj.weight", dtype: dtype, shape: [kv, c.hiddenSize]),
            ]
            if c.attentionBias {
                specs += [.init(name: p + "self_attn.q_proj.bias", dtype: dtype, shape: [q]),
                          .init(name: p + "self_attn.k_proj.bias", dtype: dtype, shape: [kv]),
                          .init(name: p + "self_attn.v_proj.bias", dtype: dtype, shape: [kv])]
            }
            specs += [
                .init(name: p + "self_attn.o_proj.weight", dtype: dtype, shape: [c.hiddenSize, q]),
                .init(name: p + "post_attention_layernorm.weight", dtype: dtype, shape: [c.hiddenSize]),
                .init(name: p + "mlp.gate_proj.weight", dtype: dtype, shape: [c.intermediateSize, c.hiddenSize]),
                .init(name: p + "mlp.up_proj.weight", dtype: dtype, shape: [c.intermediateSize, c.hiddenSize]),
                .init(name: p + "mlp.down_proj.weight", dtype: dtype, shape: [c.hiddenSize, c.intermediateSize]),
            ]
        }
        specs.append(.init(name: "model.norm.weight", dtype: dtype, shape: [c.hiddenSize]))
        if !c.tieWordEmbeddings {
            specs.append(.init(name: "lm_head.weight", dtype: dtype, shape: [c.vocabSize, c.hiddenSize]))
        }
        return specs
    }

    func write(to folder: String, progress: (Double) -> Void) throws {
        let specs = self.specs
        let total = specs.reduce(0) { $0 + ($1.byteCount ?? 0) }
        var done = 0
        let rowBuffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: specs.map { $0.shape.last ?? 1 }.max() ?? 1)
        defer { rowBuffer.deallocate() }
        try SafetensorsWriter.write(specs, metadata: ["format": "pt"], to: folder + "/model.safetensors") { index, sink in
            let spec = specs[index]
            let rows = spec.shape.count == 1 ? 1 : spec.shape[0]
            let row = UnsafeMutableBufferPointer(rebasing: rowBuffer[0..<(spec.shape.last ?? 1)])
            for r in 0..<rows {
                fillRow(spec.name, r, row)
                try sink.write(floats: UnsafeBufferPointer(row))
            }
            done += spec.byteCount ?? 0
            progress(Double(done) / Double(max(total, 1)))
        }
        try configuration.hfConfigJSON(torchDType: dtype).write(to: URL(fileURLWithPath: folder + "/config.json"))
    }
}

private extension Double {
    var float: Float { Float(self) }
}

private extension String {
    /// FNV-1a over the UTF-8 bytes: unlike `hashValue`, the same in every process.
    var hashValueStable: UInt64 {
        utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }
}
