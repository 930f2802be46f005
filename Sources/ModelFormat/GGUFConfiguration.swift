extension ModelConfiguration {
    /// Builds the configuration from GGUF metadata (`general.architecture` and `{arch}.*` keys) and the
    /// token embedding's shape. Mistral GGUFs say `llama`, so they load as `.llama`.
    /// - Parameters:
    ///   - metadata: the GGUF key/value pairs.
    ///   - embeddingShape: `token_embd.weight` in HF order, `[vocab, hidden]`.
    ///   - hasOutput: whether `output.weight` exists (absent = tied embeddings).
    ///   - hasQueryBias: whether `blk.0.attn_q.bias` exists.
    static func fromGGUF(metadata: [String: GGUFValue], embeddingShape: [Int], hasOutput: Bool, hasQueryBias: Bool, file: String) throws -> ModelConfiguration {
        guard let archValue = metadata["general.architecture"] else {
            throw ModelFormatError(.unknownArchitecture, file: file, "metadata has no general.architecture; expected llama or qwen2")
        }
        guard let archName = archValue.string, let architecture = Architecture(rawValue: archName), architecture != .mistral else {
            throw ModelFormatError(.unknownArchitecture, file: file, "general.architecture is \(archValue.string.map { "'\($0)'" } ?? "\(archValue)"); expected llama or qwen2")
        }
        let reader = GGUFMetadataReader(metadata: metadata, prefix: archName + ".", file: file)
        let hidden = try reader.requiredInt("embedding_length")
        let heads = try reader.requiredInt("attention.head_count")
        guard heads > 0 else {
            throw ModelFormatError(.inconsistentConfig, file: file, "\(archName).attention.head_count is \(heads); expected a positive integer")
        }
        guard embeddingShape.count == 2, embeddingShape[1] == hidden else {
            throw ModelFormatError(.wrongShape, file: file, "tensor 'token_embd.weight' has shape \(describe(shape: embeddingShape)); expected [vocab, \(hidden)] (embedding_length=\(hidden))")
        }
        var eos: [Int] = []
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = try reader.int(key, absolute: true), !eos.contains(id) { eos.append(id) }
        }
        let contextLength = try reader.requiredInt("context_length")
        return ModelConfiguration(
            architecture: architecture,
            hiddenSize: hidden,
            intermediateSize: try reader.requiredInt("feed_forward_length"),
            numHiddenLayers: try reader.requiredInt("block_count"),
            numAttentionHeads: heads,
            numKeyValueHeads: try reader.int("attention.head_count_kv") ?? heads,
            headDim: try reader.int("attention.key_length") ?? (hidden / heads),
            vocabSize: embeddingShape[0],
            maxPositionEmbeddings: contextLength,
            rmsNormEps: try reader.requiredFloat("attention.layer_norm_rms_epsilon"),
            ropeTheta: try reader.float("rope.freq_base") ?? 10000,
            ropeScaling: try ropeScaling(reader, contextLength: contextLength),
            tieWordEmbeddings: !hasOutput,
            attentionBias: architecture == .qwen2 || hasQueryBias,
            slidingWindow: nil,
            bosTokenID: try reader.int("tokenizer.ggml.bos_token_id", absolute: true),
            eosTokenIDs: eos
        )
    }

    private static func ropeScaling(_ reader: GGUFMetadataReader, contextLength: Int) throws -> RopeScaling? {
        guard let type = try reader.string("rope.scaling.type"), type != "none" else { return nil }
        guard type == "linear" else {
            throw ModelFormatError(.unsupportedFeature, file: reader.file, "\(reader.prefix)rope.scaling.type is '\(type)'; supported: none, linear")
        }
        let factor = try reader.float("rope.scaling.factor") ?? 1
        let original = try reader.int("rope.scaling.original_context_length") ?? contextLength
        return RopeScaling(type: "linear", factor: factor, lowFreqFactor: 1, highFreqFactor: 1, originalMaxPositionEmbeddings: original)
    }
}

/// Typed lookups in GGUF metadata with errors naming the key.
struct GGUFMetadataReader {
    let metadata: [String: GGUFValue]
    let prefix: String
    let file: String

    private func key(_ name: String, absolute: Bool) -> String { absolute ? name : prefix + name }

    func int(_ name: String, absolute: Bool = false) throws -> Int? {
        let key = key(name, absolute: absolute)
        guard let value = metadata[key] else { return nil }
        guard let int = value.int else {
            throw ModelFormatError(.invalidValue, file: file, "metadata '\(key)' is \(value.typeName) (\(value)); expected an integer")
        }
        return int
    }

    func float(_ name: String) throws -> Float? {
        guard let value = metadata[prefix + name] else { return nil }
        guard let float = value.float else {
            throw ModelFormatError(.invalidValue, file: file, "metadata '\(prefix + name)' is \(value.typeName) (\(value)); expected a number")
        }
        return float
    }

    func string(_ name: String) throws -> String? {
        guard let value = metadata[prefix + name] else { return nil }
        guard let string = value.string else {
            throw ModelFormatError(.invalidValue, file: file, "metadata '\(prefix + name)' is \(value.typeName); expected a string")
        }
        return string
    }

    func requiredInt(_ name: String) throws -> Int {
        guard let value = try int(name) else {
            throw ModelFormatError(.missingKey, file: file, "metadata '\(prefix + name)' is missing; a \(prefix.dropLast()) GGUF must have it")
        }
        return value
    }

    func requiredFloat(_ name: String) throws -> Float {
        guard let value = try float(name) else {
            throw ModelFormatError(.missingKey, file: file, "metadata '\(prefix + name)' is missing; a \(prefix.dropLast()) GGUF must have it")
        }
        return value
    }
}
