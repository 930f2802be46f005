import Foundation

// Reading and writing Hugging Face `config.json`. Defaults are those transformers' LlamaConfig,
// MistralConfig and Qwen2Config apply when a key is absent (transformers 5; same values as 4.4x).

/// transformers' per-class defaults for keys a config.json may omit.
private struct ClassDefaults {
    var vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers = 32, numAttentionHeads = 32
    var numKeyValueHeads: Int?  // nil: same as num_attention_heads
    var maxPositionEmbeddings: Int
    var bosTokenID: Int?, eosTokenID: Int?
    var slidingWindow: Int?

    static func of(_ architecture: Architecture) -> ClassDefaults {
        switch architecture {
        case .llama:
            ClassDefaults(vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numKeyValueHeads: nil,
                          maxPositionEmbeddings: 2048, bosTokenID: 1, eosTokenID: 2, slidingWindow: nil)
        case .mistral:
            ClassDefaults(vocabSize: 32000, hiddenSize: 4096, intermediateSize: 14336, numKeyValueHeads: 8,
                          maxPositionEmbeddings: 4096 * 32, bosTokenID: 1, eosTokenID: 2, slidingWindow: 4096)
        case .qwen2:
            ClassDefaults(vocabSize: 151_936, hiddenSize: 4096, intermediateSize: 22016, numKeyValueHeads: 32,
                          maxPositionEmbeddings: 32768, bosTokenID: nil, eosTokenID: nil, slidingWindow: 4096)
        }
    }
}

/// Typed access to a config.json object with errors that name the file and key.
struct ConfigObject {
    let values: [String: JSONValue]
    let file: String
    let prefix: String

    init(_ values: [String: JSONValue], file: String, prefix: String = "") {
        self.values = values
        self.file = file
        self.prefix = prefix
    }

    /// The value, or nil when absent or JSON null (transformers treats null like "not given" for these keys).
    func value(_ key: String) -> JSONValue? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { values[key] != nil }

    func wrongType(_ key: String, _ value: JSONValue, expected: String) -> ModelFormatError {
        ModelFormatError(.invalidValue, file: file, "key '\(prefix)\(key)' is \(value.kind) (\(value)); expected \(expected)")
    }

    func int(_ key: String) throws -> Int? {
        guard let value = value(key) else { return nil }
        guard let int = value.intValue else { throw wrongType(key, value, expected: "an integer") }
        return int
    }

    func float(_ key: String) throws -> Float? {
        guard let value = value(key) else { return nil }
        guard let double = value.doubleValue else { throw wrongType(key, value, expected: "a number") }
        return Float(double)
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard let bool = value.boolValue else { throw wrongType(key, value, expected: "true or false") }
        return bool
    }

    func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let string = value.stringValue else { throw wrongType(key, value, expected: "a string") }
        return string
    }

    func object(_ key: String) throws -> ConfigObject? {
        guard let value = value(key) else { return nil }
        guard let object = value.objectValue else { throw wrongType(key, value, expected: "an object") }
        return ConfigObject(object, file: file, prefix: prefix + key + ".")
    }

    /// An int or a list of ints (`eos_token_id`).
    func intList(_ key: String) throws -> [Int]? {
        guard let value = value(key) else { return nil }
        if let int = value.intValue { return [int] }
        if let array = value.arrayValue {
            return try array.map { element in
                guard let int = element.intValue else { throw wrongType(key, value, expected: "an integer or a list of integers") }
                return int
            }
        }
        throw wrongType(key, value, expected: "an integer or a list of integers")
    }
}

extension ModelConfiguration {
    /// Decodes a Hugging Face `config.json`, applying transformers' defaults for the model class.
    ///
    /// Reads both conventions: `rope_theta`/`rope_scaling` (transformers 4) and `rope_parameters`
    /// (transformers 5). Does not check consistency; call `validate(file:)` for that.
    /// - Parameters:
    ///   - configJSON: the file's bytes.
    ///   - file: the path named in error messages.
    /// - Throws: `ModelFormatError` (`badHeader` for bad JSON, `unknownArchitecture`, `invalidValue`,
    ///   `unsupportedFeature`, `inconsistentConfig`).
    public static func decode(configJSON: Data, file: String) throws -> ModelConfiguration {
        guard let root = try JSONValue.parse(configJSON, file: file, what: "config.json").objectValue else {
            throw ModelFormatError(.badHeader, file: file, "config.json is not a JSON object")
        }
        let json = ConfigObject(root, file: file)
        let architecture = try architecture(of: json)
        let defaults = ClassDefaults.of(architecture)
        try rejectUnsupported(json, architecture: architecture)

        let hidden = try json.int("hidden_size") ?? defaults.hiddenSize
        let heads = try json.int("num_attention_heads") ?? defaults.numAttentionHeads
        let layers = try json.int("num_hidden_layers") ?? defaults.numHiddenLayers
        guard heads > 0 else {
            throw ModelFormatError(.inconsistentConfig, file: file, "num_attention_heads is \(heads); expected a positive integer")
        }
        let headDim: Int
        if let explicit = try json.int("head_dim") {
            headDim = explicit
        } else {
            guard hidden % heads == 0 else {
                throw ModelFormatError(.inconsistentConfig, file: file, "hidden_size (\(hidden)) is not a multiple of num_attention_heads (\(heads)) and there is no head_dim")
            }
            headDim = hidden / heads
        }
        let (theta, scaling) = try rope(json, maxPositions: try json.int("max_position_embeddings") ?? defaults.maxPositionEmbeddings)
        var eos = try json.intList("eos_token_id") ?? []
        if !json.has("eos_token_id"), let id = defaults.eosTokenID { eos = [id] }
        let bos = json.has("bos_token_id") ? try json.int("bos_token_id") : defaults.bosTokenID

        return ModelConfiguration(
            architecture: architecture,
            hiddenSize: hidden,
            intermediateSize: try json.int("intermediate_size") ?? defaults.intermediateSize,
            numHiddenLayers: layers,
            numAttentionHeads: heads,
            numKeyValueHeads: try json.int("num_key_value_heads") ?? defaults.numKeyValueHeads ?? heads,
            headDim: headDim,
            vocabSize: try json.int("vocab_size") ?? defaults.vocabSize,
            maxPositionEmbeddings: try json.int("max_position_embeddings") ?? defaults.maxPositionEmbeddings,
            rmsNormEps: try json.float("rms_norm_eps") ?? 1e-6,
            ropeTheta: theta,
            ropeScaling: scaling,
            tieWordEmbeddings: try json.bool("tie_word_embeddings") ?? false,
            attentionBias: try attentionBias(json, architecture: architecture),
            slidingWindow: try slidingWindow(json, architecture: architecture, layers: layers, defaults: defaults),
            bosTokenID: bos,
            eosTokenIDs: eos
        )
    }

    private static func architecture(of json: ConfigObject) throws -> Architecture {
        if let modelType = try json.string("model_type") {
            guard let architecture = Architecture(rawValue: modelType) else {
                throw ModelFormatError(.unknownArchitecture, file: json.file, "model_type is '\(modelType)'; expected one of llama, mistral, qwen2")
            }
            return architecture
        }
        // Some older checkpoints carry only `architectures`.
        let classes = json.value("architectures")?.arrayValue?.compactMap(\.stringValue) ?? []
        for candidate in Architecture.allCases where classes.contains(candidate.causalLMClassName) {
            return candidate
        }
        let found = classes.isEmpty ? "no model_type and no architectures" : "architectures \(classes)"
        throw ModelFormatError(.unknownArchitecture, file: json.file, "\(found); expected model_type llama, mistral or qwen2")
    }

    /// Qwen2 always has q/k/v biases; Llama has them when `attention_bias`; Mistral never.
    private static func attentionBias(_ json: ConfigObject, architecture: Architecture) throws -> Bool {
        switch architecture {
        case .qwen2: true
        case .llama: try json.bool("attention_bias") ?? false
        case .mistral: false
        }
    }

    private static func rejectUnsupported(_ json: ConfigObject, architecture: Architecture) throws {
        if let act = try json.string("hidden_act"), act != "silu" {
            throw ModelFormatError(.unsupportedFeature, file: json.file, "hidden_act is '\(act)'; only 'silu' (SwiGLU) is supported")
        }
        if architecture == .llama, try json.bool("mlp_bias") == true {
            throw ModelFormatError(.unsupportedFeature, file: json.file, "mlp_bias is true; MLP biases are not supported")
        }
    }

    /// Transformers 5 merges legacy keys into `rope_parameters`: a non-null `rope_scaling` wins over
    /// `rope_parameters`, and a `rope_theta` inside the dict wins over the top-level key.
    private static func rope(_ json: ConfigObject, maxPositions: Int) throws -> (Float, RopeScaling?) {
        let parameters = try json.object("rope_scaling") ?? json.object("rope_parameters") ?? ConfigObject([:], file: json.file, prefix: "rope_parameters.")
        let theta = try parameters.float("rope_theta") ?? json.float("rope_theta") ?? 10000
        let type = try parameters.string("rope_type") ?? parameters.string("type") ?? "default"
        func required(_ key: String) throws -> Float {
            guard let value = try parameters.float(key) else {
                throw ModelFormatError(.missingKey, file: json.file, "\(parameters.prefix)\(key) is missing; rope_type '\(type)' needs it")
            }
            return value
        }
        switch type {
        case "default":
            return (theta, nil)
        case "linear":
            return (theta, RopeScaling(type: type, factor: try required("factor"), lowFreqFactor: 1, highFreqFactor: 1,
                                       originalMaxPositionEmbeddings: maxPositions))
        case "llama3":
            let original = try parameters.int("original_max_position_embeddings")
            guard let original else {
                throw ModelFormatError(.missingKey, file: json.file, "\(parameters.prefix)original_max_position_embeddings is missing; rope_type 'llama3' needs it")
            }
            return (theta, RopeScaling(type: type, factor: try required("factor"), lowFreqFactor: try required("low_freq_factor"),
                                       highFreqFactor: try required("high_freq_factor"), originalMaxPositionEmbeddings: original))
        default:
            throw ModelFormatError(.unsupportedFeature, file: json.file, "\(parameters.prefix)rope_type is '\(type)'; supported: default, linear, llama3")
        }
    }

    private static func slidingWindow(_ json: ConfigObject, architecture: Architecture, layers: Int, defaults: ClassDefaults) throws -> Int? {
        switch architecture {
        case .llama:
            return nil
        case .mistral:
            return json.has("sliding_window") ? try json.int("sliding_window") : defaults.slidingWindow
        case .qwen2:
            // Qwen2 slides only when use_sliding_window, and then only on layers >= max_window_layers.
            guard try json.bool("use_sliding_window") == true else { return nil }
            let window = json.has("sliding_window") ? try json.int("sliding_window") : defaults.slidingWindow
            let firstSliding = try json.int("max_window_layers") ?? 28
            if window == nil || firstSliding >= layers { return nil }
            guard firstSliding == 0 else {
                throw ModelFormatError(.unsupportedFeature, file: json.file, "use_sliding_window with max_window_layers \(firstSliding) < num_hidden_layers \(layers) mixes full and sliding layers, which is not supported")
            }
            return window
        }
    }
}
