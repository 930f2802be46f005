extension ModelCheckpoint {
    /// Loads a GGUF file: renames tensors to HF names, builds the configuration from metadata, checks
    /// shapes, and undoes llama.cpp's Q/K row permutation for arch llama.
    static func loadGGUF(_ path: String) throws -> ModelCheckpoint {
        let gguf = try GGUFFile(path: path)
        var tensors: [String: Tensor] = [:]
        var ggufNames: [String: String] = [:]  // HF name → llama.cpp name, for messages
        for tensor in gguf.tensors {
            let name = GGUFNaming.huggingFaceName(tensor.name) ?? tensor.name
            guard tensors[name] == nil else {
                throw ModelFormatError(.badHeader, file: path, "tensor '\(tensor.name)' appears twice")
            }
            tensors[name] = Tensor(name: name, dtype: tensor.dtype, shape: tensor.shape, data: tensor.data, storage: tensor.storage)
            ggufNames[name] = tensor.name
        }
        guard let embedding = tensors["model.embed_tokens.weight"] else {
            throw ModelFormatError(.missingTensor, file: path, "tensor 'token_embd.weight' is missing; it gives the vocabulary size and is needed by every model")
        }
        var configuration = try ModelConfiguration.fromGGUF(
            metadata: gguf.metadata, embeddingShape: embedding.shape, hasOutput: tensors["lm_head.weight"] != nil,
            hasQueryBias: tensors["model.layers.0.self_attn.q_proj.bias"] != nil, file: path)
        try configuration.validate(file: path)
        if let frequencies = tensors["rope_freqs.weight"], configuration.ropeScaling == nil {
            let arch = configuration.architecture.rawValue
            configuration.ropeScaling = try GGUFRopeFrequencies.scaling(
                divisors: frequencies.floats(), theta: configuration.ropeTheta, headDim: configuration.headDim,
                originalContext: gguf.metadata["\(arch).rope.scaling.original_context_length"]?.int, file: path)
            try configuration.validate(file: path)
        }
        try validateTensors(tensors, configuration: configuration, file: path) { name in
            (ggufNames[name] ?? GGUFNaming.ggufName(name)).map { "'\($0)' (\(name))" } ?? "'\(name)'"
        }
        if gguf.metadata["general.architecture"]?.string == "llama" {
            unpermuteQueryKey(&tensors, configuration: configuration)
        }
        return ModelCheckpoint(path: path, format: .gguf, configuration: configuration, ggufMetadata: gguf.metadata,
                               safetensorsMetadata: [:], tensors: tensors)
    }

    /// convert_hf_to_gguf.py `LlamaModel.permute` reorders each head's rows from HF's half-split RoPE layout
    /// [x0..x(d/2-1), y0..y(d/2-1)] to interleaved pairs [x0, y0, x1, y1, ...]. Undo it for q (n_head)
    /// and k (n_head_kv), weights and biases, so every checkpoint has the HF layout.
    private static func unpermuteQueryKey(_ tensors: inout [String: Tensor], configuration c: ModelConfiguration) {
        for layer in 0..<c.numHiddenLayers {
            for (projection, heads) in [("q_proj", c.numAttentionHeads), ("k_proj", c.numKeyValueHeads)] {
                for kind in ["weight", "bias"] {
                    let name = "model.layers.\(layer).self_attn.\(projection).\(kind)"
                    if let tensor = tensors[name] { tensors[name] = unpermuted(tensor, heads: heads) }
                }
            }
        }
    }

    /// Rows (the first dimension) of `tensor` reordered: HF row h*d + j*(d/2) + i ← GGUF row h*d + 2i + j.
    /// Shapes were validated, so rows = heads x d with d even; rows are whole q8_0 blocks.
    static func unpermuted(_ tensor: Tensor, heads: Int) -> Tensor {
        let rows = tensor.shape[0]
        let rowBytes = tensor.data.count / rows
        let headDim = rows / heads
        let half = headDim / 2
        let buffer = OwnedBuffer(count: tensor.data.count)
        let source = tensor.data.baseAddress!
        let destination = buffer.bytes.baseAddress!
        for head in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let from = head * headDim + 2 * i + j
                    let to = head * headDim + j * half + i
                    (destination + to * rowBytes).copyMemory(from: source + from * rowBytes, byteCount: rowBytes)
                }
            }
        }
        let data = UnsafeRawBufferPointer(buffer.bytes).prefix(tensor.data.count)
        return Tensor(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, data: UnsafeRawBufferPointer(rebasing: data), storage: buffer)
    }
}
