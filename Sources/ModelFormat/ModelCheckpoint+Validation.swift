extension ModelCheckpoint {
    /// A tensor the architecture needs and the shape the configuration implies for it.
    struct Expectation {
        var name: String
        var shape: [Int]
        /// The configuration values behind `shape`, for the error message.
        var reason: String
    }

    /// Every tensor a Llama-shaped model with `configuration` must have (HF names and order).
    static func expectedTensors(_ configuration: ModelConfiguration) -> [Expectation] {
        let c = configuration
        let hidden = "hidden_size=\(c.hiddenSize)"
        let q = "num_attention_heads=\(c.numAttentionHeads) x head_dim=\(c.headDim)"
        let kv = "num_key_value_heads=\(c.numKeyValueHeads) x head_dim=\(c.headDim)"
        let ffn = "intermediate_size=\(c.intermediateSize)"
        var expected = [Expectation(name: "model.embed_tokens.weight", shape: [c.vocabSize, c.hiddenSize], reason: "vocab_size=\(c.vocabSize), \(hidden)")]
        for layer in 0..<c.numHiddenLayers {
            let p = "model.layers.\(layer)."
            expected += [
                Expectation(name: p + "input_layernorm.weight", shape: [c.hiddenSize], reason: hidden),
                Expectation(name: p + "self_attn.q_proj.weight", shape: [c.queryDim, c.hiddenSize], reason: "\(q), \(hidden)"),
                Expectation(name: p + "self_attn.k_proj.weight", shape: [c.keyValueDim, c.hiddenSize], reason: "\(kv), \(hidden)"),
                Expectation(name: p + "self_attn.v_proj.weight", shape: [c.keyValueDim, c.hiddenSize], reason: "\(kv), \(hidden)"),
                Expectation(name: p + "self_attn.o_proj.weight", shape: [c.hiddenSize, c.queryDim], reason: "\(hidden), \(q)"),
                Expectation(name: p + "post_attention_layernorm.weight", shape: [c.hiddenSize], reason: hidden),
                Expectation(name: p + "mlp.gate_proj.weight", shape: [c.intermediateSize, c.hiddenSize], reason: "\(ffn), \(hidden)"),
                Expectation(name: p + "mlp.up_proj.weight", shape: [c.intermediateSize, c.hiddenSize], reason: "\(ffn), \(hidden)"),
                Expectation(name: p + "mlp.down_proj.weight", shape: [c.hiddenSize, c.intermediateSize], reason: "\(hidden), \(ffn)"),
            ]
            if c.attentionBias {
                let why = c.architecture == .qwen2 ? "qwen2 has q/k/v biases" : "attention_bias=true"
                expected += [
                    Expectation(name: p + "self_attn.q_proj.bias", shape: [c.queryDim], reason: "\(q); \(why)"),
                    Expectation(name: p + "self_attn.k_proj.bias", shape: [c.keyValueDim], reason: "\(kv); \(why)"),
                    Expectation(name: p + "self_attn.v_proj.bias", shape: [c.keyValueDim], reason: "\(kv); \(why)"),
                ]
            }
        }
        expected.append(Expectation(name: "model.norm.weight", shape: [c.hiddenSize], reason: hidden))
        expected.append(Expectation(name: "lm_head.weight", shape: [c.vocabSize, c.hiddenSize],
                                    reason: "vocab_size=\(c.vocabSize), \(hidden); tie_word_embeddings=false"))
        return expected
    }

    /// Checks presence and exact shape of every needed tensor.
    /// - Parameters:
    ///   - file: named when a tensor is missing (shape errors name the tensor's own file).
    ///   - label: how a tensor is named in messages (GGUF adds the llama.cpp name).
    static func validateTensors(_ tensors: [String: Tensor], configuration: ModelConfiguration, file: String,
                                label: (String) -> String) throws {
        for expectation in expectedTensors(configuration) {
            guard let tensor = tensors[expectation.name] else {
                // A tied model may omit lm_head; one that carries it anyway is checked below like any other.
                if expectation.name == "lm_head.weight" && configuration.tieWordEmbeddings { continue }
                throw ModelFormatError(.missingTensor, file: file, "tensor \(label(expectation.name)) is missing; expected shape \(describe(shape: expectation.shape)) (\(expectation.reason))")
            }
            guard tensor.shape == expectation.shape else {
                let tensorFile = (tensor.storage as? MappedFile)?.path ?? file
                throw ModelFormatError(.wrongShape, file: tensorFile, "tensor \(label(expectation.name)) has shape \(describe(shape: tensor.shape)); expected \(describe(shape: expectation.shape)) (\(expectation.reason))")
            }
        }
    }
}
