import Kernels
import ModelFormat

/// One decoder layer's parameters: matrices stay in their stored type inside the checkpoint's
/// mapping; norms and biases are small and widened to f32 once.
struct LayerWeights {
    let attentionNorm: [Float]        // [dim]
    let query: WeightMatrix           // [heads * headDim, dim]
    let key: WeightMatrix             // [kvHeads * headDim, dim]
    let value: WeightMatrix           // [kvHeads * headDim, dim]
    let output: WeightMatrix          // [dim, heads * headDim]
    let queryBias: [Float]?           // [heads * headDim] (qwen2)
    let keyBias: [Float]?             // [kvHeads * headDim]
    let valueBias: [Float]?           // [kvHeads * headDim]
    let mlpNorm: [Float]              // [dim]
    let gate: WeightMatrix            // [ffn, dim]
    let up: WeightMatrix              // [ffn, dim]
    let down: WeightMatrix            // [dim, ffn]
}

/// Every parameter of a Llama-family model, viewed from a loaded checkpoint (which must outlive it).
struct TransformerWeights {
    let embedding: WeightMatrix       // [vocab, dim]
    let layers: [LayerWeights]
    let finalNorm: [Float]            // [dim]
    let lmHead: WeightMatrix          // [vocab, dim]; the embedding itself when tied

    init(checkpoint: ModelCheckpoint) throws {
        let config = checkpoint.configuration
        embedding = try Self.matrix(checkpoint, "model.embed_tokens.weight")
        layers = try (0..<config.numHiddenLayers).map { index in
            let prefix = "model.layers.\(index)."
            func bias(_ name: String) throws -> [Float]? {
                config.attentionBias ? try checkpoint.tensor(prefix + name).floats() : nil
            }
            return LayerWeights(
                attentionNorm: try checkpoint.tensor(prefix + "input_layernorm.weight").floats(),
                query: try Self.matrix(checkpoint, prefix + "self_attn.q_proj.weight"),
                key: try Self.matrix(checkpoint, prefix + "self_attn.k_proj.weight"),
                value: try Self.matrix(checkpoint, prefix + "self_attn.v_proj.weight"),
                output: try Self.matrix(checkpoint, prefix + "self_attn.o_proj.weight"),
                queryBias: try bias("self_attn.q_proj.bias"),
                keyBias: try bias("self_attn.k_proj.bias"),
                valueBias: try bias("self_attn.v_proj.bias"),
                mlpNorm: try checkpoint.tensor(prefix + "post_attention_layernorm.weight").floats(),
                gate: try Self.matrix(checkpoint, prefix + "mlp.gate_proj.weight"),
                up: try Self.matrix(checkpoint, prefix + "mlp.up_proj.weight"),
                down: try Self.matrix(checkpoint, prefix + "mlp.down_proj.weight"))
        }
        finalNorm = try checkpoint.tensor("model.norm.weight").floats()
        lmHead = config.tieWordEmbeddings || !checkpoint.hasTensor("lm_head.weight")
            ? embedding : try Self.matrix(checkpoint, "lm_head.weight")
    }

    /// Bytes a decode step streams: every matrix once (the tied embedding counts once, as the head).
    var streamedBytes: Int {
        let perLayer = layers.first.map { layer in
            [layer.query, layer.key, layer.value, layer.output, layer.gate, layer.up, layer.down]
                .reduce(0) { $0 + $1.byteCount }
        } ?? 0
        return perLayer * layers.count + lmHead.byteCount
    }

    /// Multiply-add parameters a token meets (the embedding lookup is free; the head is not).
    var matrixParameters: Int {
        let perLayer = layers.first.map { layer in
            [layer.query, layer.key, layer.value, layer.output, layer.gate, layer.up, layer.down]
                .reduce(0) { $0 + $1.rows * $1.columns }
        } ?? 0
        return perLayer * layers.count + lmHead.rows * lmHead.columns
    }

    private static func matrix(_ checkpoint: ModelCheckpoint, _ name: String) throws -> WeightMatrix {
        let tensor = try checkpoint.tensor(name)
        precondition(tensor.shape.count == 2, "validated by ModelFormat: '\(name)' is a matrix")
        let type: WeightType
        switch tensor.dtype {
        case .f32: type = .f32
        case .f16: type = .f16
        case .bf16: type = .bf16
        case .q8_0: type = .q8_0
        }
        return WeightMatrix(type: type, rows: tensor.shape[0], columns: tensor.shape[1],
                            data: tensor.data.baseAddress!)
    }
}

