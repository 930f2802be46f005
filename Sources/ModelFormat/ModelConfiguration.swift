/// The model families this engine runs. All are Llama-shaped decoders (RMSNorm, RoPE, SwiGLU, GQA).
public enum Architecture: String, Sendable, CaseIterable {
    case llama, mistral, qwen2

    /// The transformers class name written into `architectures`.
    public var causalLMClassName: String {
        switch self {
        case .llama: "LlamaForCausalLM"
        case .mistral: "MistralForCausalLM"
        case .qwen2: "Qwen2ForCausalLM"
        }
    }
}

/// RoPE frequency scaling. `type` is `"llama3"` (Llama 3.1 wavelength-based smoothing) or `"linear"`
/// (positions divided by `factor`; `lowFreqFactor`/`highFreqFactor` unused).
public struct RopeScaling: Sendable, Equatable {
    public var type: String
    public var factor: Float
    public var lowFreqFactor: Float
    public var highFreqFactor: Float
    public var originalMaxPositionEmbeddings: Int

    public init(type: String, factor: Float, lowFreqFactor: Float, highFreqFactor: Float, originalMaxPositionEmbeddings: Int) {
        self.type = type
        self.factor = factor
        self.lowFreqFactor = lowFreqFactor
        self.highFreqFactor = highFreqFactor
        self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
    }
}

/// Everything the forward pass needs to know about a checkpoint, in Hugging Face terms.
/// Built from `config.json` (`decode(configJSON:file:)`) or from GGUF metadata.
public struct ModelConfiguration: Sendable, Equatable {
    public var architecture: Architecture
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var vocabSize: Int
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Float
    public var ropeTheta: Float
    public var ropeScaling: RopeScaling?
    public var tieWordEmbeddings: Bool
    /// q/k/v projections carry biases (always for qwen2; `attention_bias` for llama).
    public var attentionBias: Bool
    /// Sliding-window attention span in tokens (every layer), nil for full attention.
    public var slidingWindow: Int?
    public var bosTokenID: Int?
    public var eosTokenIDs: [Int]

    public init(
        architecture: Architecture, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
        numAttentionHeads: Int, numKeyValueHeads: Int, headDim: Int, vocabSize: Int, maxPositionEmbeddings: Int,
        rmsNormEps: Float, ropeTheta: Float, ropeScaling: RopeScaling? = nil, tieWordEmbeddings: Bool,
        attentionBias: Bool, slidingWindow: Int? = nil, bosTokenID: Int? = nil, eosTokenIDs: [Int] = []
    ) {
        self.architecture = architecture
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.headDim = headDim
        self.vocabSize = vocabSize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.tieWordEmbeddings = tieWordEmbeddings
        self.attentionBias = attentionBias
        self.slidingWindow = slidingWindow
        self.bosTokenID = bosTokenID
        self.eosTokenIDs = eosTokenIDs
    }

    /// Checks that the values can describe a working model.
    /// - Parameter file: named in the error message (the config.json or .gguf path).
    /// - Throws: `ModelFormatError` with code `inconsistentConfig`, naming the key, its value and the rule.
    public func validate(file: String) throws {
        func fail(_ message: String) -> ModelFormatError { ModelFormatError(.inconsistentConfig, file: file, message) }
        let sizes: [(String, Int)] = [
            ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
            ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
            ("num_key_value_heads", numKeyValueHeads), ("head_dim", headDim), ("vocab_size", vocabSize),
            ("max_position_embeddings", maxPositionEmbeddings),
        ]
        for (key, value) in sizes where value <= 0 {
            throw fail("\(key) is \(value); expected a positive integer")
        }
        // Products below size weight shapes; refuse values that would overflow or describe absurd tensors.
        for (key, value) in sizes where value > 1 << 24 {
            throw fail("\(key) is \(value); expected at most \(1 << 24)")
        }
        guard numHiddenLayers <= 4096 else {
            throw fail("num_hidden_layers is \(numHiddenLayers); expected at most 4096")
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw fail("num_attention_heads (\(numAttentionHeads)) is not a multiple of num_key_value_heads (\(numKeyValueHeads)); grouped-query attention needs whole groups")
        }
        guard headDim % 2 == 0 else {
            throw fail("head_dim is \(headDim); expected an even number (RoPE rotates pairs)")
        }
        if architecture == .llama, hiddenSize % numAttentionHeads != 0 {
            throw fail("hidden_size (\(hiddenSize)) is not a multiple of num_attention_heads (\(numAttentionHeads)), which LlamaConfig requires")
        }
        guard rmsNormEps.isFinite, rmsNormEps > 0 else {
            throw fail("rms_norm_eps is \(rmsNormEps); expected a small positive number")
        }
        guard ropeTheta.isFinite, ropeTheta > 0 else {
            throw fail("rope_theta is \(ropeTheta); expected a positive number")
        }
        if let window = slidingWindow, window <= 0 {
            throw fail("sliding_window is \(window); expected a positive integer or null")
        }
        if let scaling = ropeScaling { try scaling.validate(file: file) }
        for (key, id) in [("bos_token_id", bosTokenID)] + eosTokenIDs.map({ ("eos_token_id", Optional($0)) }) {
            if let id, id < 0 || id >= vocabSize {
                throw fail("\(key) is \(id); expected an id in 0..<\(vocabSize) (vocab_size)")
            }
        }
    }

    /// Rows of the q projection: `numAttentionHeads * headDim`.
    public var queryDim: Int { numAttentionHeads * headDim }
    /// Rows of the k and v projections: `numKeyValueHeads * headDim`.
    public var keyValueDim: Int { numKeyValueHeads * headDim }
}

extension RopeScaling {
    func validate(file: String) throws {
        func fail(_ message: String) -> ModelFormatError { ModelFormatError(.inconsistentConfig, file: file, message) }
        guard factor.isFinite, factor > 0 else { throw fail("rope_scaling.factor is \(factor); expected a positive number") }
        guard type == "llama3" else { return }
        guard originalMaxPositionEmbeddings > 0 else {
            throw fail("rope_scaling.original_max_position_embeddings is \(originalMaxPositionEmbeddings); expected a positive integer")
        }
        guard lowFreqFactor > 0, highFreqFactor > lowFreqFactor else {
            throw fail("rope_scaling low_freq_factor \(lowFreqFactor) / high_freq_factor \(highFreqFactor); expected 0 < low < high")
        }
    }
}
