import Foundation

extension ModelConfiguration {
    /// A `config.json` that transformers (4.4x and 5) loads into the same model, and that
    /// `decode(configJSON:file:)` reads back to an equal configuration. Keys are sorted, output is stable.
    /// - Parameter torchDType: the weights' type, written as `torch_dtype` and `dtype`.
    public func hfConfigJSON(torchDType: DType = .bf16) -> Data {
        var entries: [(String, JSONText)] = [
            ("architectures", .array([.string(architecture.causalLMClassName)])),
            ("model_type", .string(architecture.rawValue)),
            ("hidden_act", .string("silu")),
            ("hidden_size", .int(hiddenSize)),
            ("intermediate_size", .int(intermediateSize)),
            ("num_hidden_layers", .int(numHiddenLayers)),
            ("num_attention_heads", .int(numAttentionHeads)),
            ("num_key_value_heads", .int(numKeyValueHeads)),
            ("head_dim", .int(headDim)),
            ("vocab_size", .int(vocabSize)),
            ("max_position_embeddings", .int(maxPositionEmbeddings)),
            ("rms_norm_eps", .float(rmsNormEps)),
            ("rope_theta", .float(ropeTheta)),
            ("rope_scaling", ropeScaling.map { .object(ropeEntries($0, includeTheta: false)) } ?? .null),
            ("rope_parameters", .object(ropeScaling.map { ropeEntries($0, includeTheta: true) }
                ?? [("rope_theta", .float(ropeTheta)), ("rope_type", .string("default"))])),
            ("tie_word_embeddings", .bool(tieWordEmbeddings)),
            ("bos_token_id", bosTokenID.map { .int($0) } ?? .null),
            ("eos_token_id", eosTokenIDs.count == 1 ? .int(eosTokenIDs[0]) : eosTokenIDs.isEmpty ? .null : .array(eosTokenIDs.map { .int($0) })),
            ("torch_dtype", .string(torchDType.torchName)),
            ("dtype", .string(torchDType.torchName)),
            ("use_cache", .bool(true)),
        ]
        switch architecture {
        case .llama:
            entries += [("attention_bias", .bool(attentionBias)), ("mlp_bias", .bool(false))]
        case .mistral:
            entries += [("sliding_window", slidingWindow.map { .int($0) } ?? .null)]
        case .qwen2:
            entries += [("use_sliding_window", .bool(slidingWindow != nil)), ("max_window_layers", .int(0)),
                        ("sliding_window", slidingWindow.map { .int($0) } ?? .null)]
        }
        var out = ""
        JSONText.object(entries.sorted { $0.0 < $1.0 }).write(to: &out, indent: 0)
        return Data((out + "\n").utf8)
    }

    private func ropeEntries(_ scaling: RopeScaling, includeTheta: Bool) -> [(String, JSONText)] {
        var entries: [(String, JSONText)] = [("rope_type", .string(scaling.type)), ("factor", .float(scaling.factor))]
        if scaling.type == "llama3" {
            entries += [("low_freq_factor", .float(scaling.lowFreqFactor)), ("high_freq_factor", .float(scaling.highFreqFactor)),
                        ("original_max_position_embeddings", .int(scaling.originalMaxPositionEmbeddings))]
        }
        if includeTheta { entries.append(("rope_theta", .float(ropeTheta))) }
        return entries.sorted { $0.0 < $1.0 }
    }
}

extension DType {
    /// The name torch and config.json use (`"bfloat16"`); q8_0 has none and reports float32.
    var torchName: String {
        switch self {
        case .f32, .q8_0: "float32"
        case .f16: "float16"
        case .bf16: "bfloat16"
        }
    }
}

/// A minimal JSON writer with ordered keys; floats print in their shortest decimal form (1e-05, not 9.99e-06).
private indirect enum JSONText {
    case null, bool(Bool), int(Int), float(Float), string(String)
    case array([JSONText]), object([(String, JSONText)])

    func write(to out: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1)
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .float(let f): out += Double(f.description).map { $0.description } ?? "null"
        case .string(let s): out += Self.quote(s)
        case .array(let items):
            out += "[" + items.map { item in var s = ""; item.write(to: &s, indent: indent + 1); return s }.joined(separator: ", ") + "]"
        case .object(let entries):
            out += "{\n"
            for (index, (key, value)) in entries.enumerated() {
                out += pad + Self.quote(key) + ": "
                value.write(to: &out, indent: indent + 1)
                out += index == entries.count - 1 ? "\n" : ",\n"
            }
            out += String(repeating: "  ", count: indent) + "}"
        }
    }

    static func quote(_ s: String) -> String { jsonQuoted(s) }
}
