import Foundation
import Testing
@testable import ModelFormat

@Suite("ModelConfiguration: config.json decoding, defaults, validation, writing")
struct ConfigurationTests {
    private func decode(_ json: String) throws -> ModelConfiguration {
        try ModelConfiguration.decode(configJSON: Data(json.utf8), file: "config.json")
    }

    @Test("fixture config.json files decode to what the fixtures README says", arguments: [
        (Fixtures.m1, Fixtures.m1Config), (Fixtures.m2, Fixtures.m2Config),
        (Fixtures.m3, Fixtures.m3Config), (Fixtures.pycode, Fixtures.pycodeConfig),
    ])
    func fixtureConfigs(folder: String, expected: ModelConfiguration) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))
        let config = try ModelConfiguration.decode(configJSON: data, file: folder + "/config.json")
        #expect(config == expected)
        try config.validate(file: folder)
    }

    @Test("absent keys take LlamaConfig's defaults")
    func llamaDefaults() throws {
        let config = try decode(#"{"model_type": "llama"}"#)
        #expect(config.hiddenSize == 4096 && config.intermediateSize == 11008 && config.numHiddenLayers == 32)
        #expect(config.numAttentionHeads == 32 && config.numKeyValueHeads == 32 && config.headDim == 128)
        #expect(config.vocabSize == 32000 && config.maxPositionEmbeddings == 2048)
        #expect(config.rmsNormEps == 1e-6 && config.ropeTheta == 10000 && config.ropeScaling == nil)
        #expect(config.tieWordEmbeddings == false && config.attentionBias == false && config.slidingWindow == nil)
        #expect(config.bosTokenID == 1 && config.eosTokenIDs == [2])
    }

    @Test("absent keys take MistralConfig's defaults (8 kv heads, sliding window 4096)")
    func mistralDefaults() throws {
        let config = try decode(#"{"model_type": "mistral", "hidden_size": 1024, "num_attention_heads": 16}"#)
        #expect(config.numKeyValueHeads == 8 && config.headDim == 64 && config.intermediateSize == 14336)
        #expect(config.maxPositionEmbeddings == 131_072 && config.slidingWindow == 4096)
        #expect(config.bosTokenID == 1 && config.eosTokenIDs == [2] && config.tieWordEmbeddings == false)
        let noWindow = try decode(#"{"model_type": "mistral", "sliding_window": null}"#)
        #expect(noWindow.slidingWindow == nil)
    }

    @Test("absent keys take Qwen2Config's defaults (biases, no bos/eos, rope_theta 10000)")
    func qwen2Defaults() throws {
        let config = try decode(#"{"model_type": "qwen2"}"#)
        #expect(config.vocabSize == 151_936 && config.intermediateSize == 22016 && config.numKeyValueHeads == 32)
        #expect(config.maxPositionEmbeddings == 32768 && config.ropeTheta == 10000)
        #expect(config.attentionBias && config.slidingWindow == nil)
        #expect(config.bosTokenID == nil && config.eosTokenIDs.isEmpty)
        let sliding = try decode(#"{"model_type": "qwen2", "use_sliding_window": true, "max_window_layers": 0, "sliding_window": 512}"#)
        #expect(sliding.slidingWindow == 512)
        let fullOnly = try decode(#"{"model_type": "qwen2", "use_sliding_window": true, "num_hidden_layers": 24}"#)
        #expect(fullOnly.slidingWindow == nil)  // max_window_layers 28 >= 24 layers: no sliding layer
    }

    @Test("null num_key_value_heads / head_dim fall back like transformers; eos may be a list")
    func nullsAndLists() throws {
        let config = try decode(#"{"model_type": "llama", "hidden_size": 512, "num_attention_heads": 8, "num_key_value_heads": null, "head_dim": null, "eos_token_id": [5, 7], "bos_token_id": null}"#)
        #expect(config.numKeyValueHeads == 8 && config.headDim == 64)
        #expect(config.eosTokenIDs == [5, 7] && config.bosTokenID == nil)
    }

    @Test("rope_parameters (transformers 5) and rope_theta/rope_scaling (transformers 4) both read")
    func ropeConventions() throws {
        let v5 = try decode(#"{"model_type": "llama", "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}"#)
        let v4 = try decode(#"{"model_type": "llama", "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}"#)
        let expected = RopeScaling(type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192)
        #expect(v5.ropeTheta == 500_000 && v5.ropeScaling == expected)
        #expect(v4 == v5)
        let legacyType = try decode(#"{"model_type": "llama", "rope_scaling": {"type": "linear", "factor": 2.0}}"#)
        #expect(legacyType.ropeScaling?.type == "linear" && legacyType.ropeScaling?.factor == 2)
        let defaultType = try decode(#"{"model_type": "qwen2", "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0}}"#)
        #expect(defaultType.ropeScaling == nil && defaultType.ropeTheta == 1_000_000)
    }

    @Test("unsupported options and wrong types are one-line errors naming the key")
    func decodeErrors() throws {
        let unknown = expectError(.unknownArchitecture) { _ = try decode(#"{"model_type": "gpt2"}"#) }
        #expect(unknown?.description == "config.json: model_type is 'gpt2'; expected one of llama, mistral, qwen2")
        expectError(.unknownArchitecture) { _ = try decode(#"{"hidden_size": 64}"#) }
        let newline = expectError(.unknownArchitecture) { _ = try decode(#"{"model_type": "lla\nma"}"#) }
        #expect(newline?.message.hasPrefix(#"model_type is 'lla\nma'"#) == true)  // escaped: stays one line
        #expect(try decode(#"{"architectures": ["MistralForCausalLM"]}"#).architecture == .mistral)
        let wrongType = expectError(.invalidValue) { _ = try decode(#"{"model_type": "llama", "hidden_size": "64"}"#) }
        #expect(wrongType?.message.contains("'hidden_size'") == true)
        let yarn = expectError(.unsupportedFeature) { _ = try decode(#"{"model_type": "llama", "rope_scaling": {"rope_type": "yarn", "factor": 4.0}}"#) }
        #expect(yarn?.message.contains("yarn") == true)
        expectError(.missingKey) { _ = try decode(#"{"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 8.0}}"#) }
        expectError(.unsupportedFeature) { _ = try decode(#"{"model_type": "llama", "hidden_act": "gelu"}"#) }
        expectError(.unsupportedFeature) { _ = try decode(#"{"model_type": "llama", "mlp_bias": true}"#) }
        expectError(.badHeader) { _ = try decode(#"{"model_type": "llama","#) }
        expectError(.badHeader) { _ = try decode(#"[1, 2]"#) }
        expectError(.inconsistentConfig) { _ = try decode(#"{"model_type": "mistral", "hidden_size": 100, "num_attention_heads": 3}"#) }
    }

    @Test("validate rejects inconsistent values with the key, value and rule")
    func validation() throws {
        var config = Fixtures.m1Config
        config.numKeyValueHeads = 3
        let gqa = expectError(.inconsistentConfig) { try config.validate(file: "m1/config.json") }
        #expect(gqa?.description == "m1/config.json: num_attention_heads (4) is not a multiple of num_key_value_heads (3); grouped-query attention needs whole groups")
        let cases: [(String, (inout ModelConfiguration) -> Void)] = [
            ("hidden_size", { $0.hiddenSize = 0 }), ("num_hidden_layers", { $0.numHiddenLayers = -1 }),
            ("head_dim", { $0.headDim = 15 }), ("rms_norm_eps", { $0.rmsNormEps = 0 }),
            ("rope_theta", { $0.ropeTheta = .nan }), ("sliding_window", { $0.slidingWindow = 0 }),
            ("eos_token_id", { $0.eosTokenIDs = [1024] }), ("bos_token_id", { $0.bosTokenID = -1 }),
            ("hidden_size", { $0.hiddenSize = 66 }),
            ("rope_scaling", { $0.ropeScaling = RopeScaling(type: "llama3", factor: 8, lowFreqFactor: 4, highFreqFactor: 1, originalMaxPositionEmbeddings: 8192) }),
        ]
        for (key, edit) in cases {
            var broken = Fixtures.m1Config
            edit(&broken)
            let error = expectError(.inconsistentConfig) { try broken.validate(file: "c.json") }
            #expect(error?.message.contains(key) == true, "\(key): \(String(describing: error))")
        }
    }

    @Test("hfConfigJSON reads back to the same configuration", arguments: [
        Fixtures.m1Config, Fixtures.m2Config, Fixtures.m3Config, Fixtures.pycodeConfig,
    ])
    func roundTrip(config: ModelConfiguration) throws {
        let json = config.hfConfigJSON()
        #expect(try decode(String(decoding: json, as: UTF8.self)) == config)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["model_type"] as? String == config.architecture.rawValue)
        #expect((object["rope_parameters"] as? [String: Any])?["rope_theta"] != nil)
    }

    @Test("hfConfigJSON keeps llama3 rope scaling, multi-eos and a qwen2 sliding window")
    func roundTripVariants() throws {
        var llama3 = Fixtures.m1Config
        llama3.ropeScaling = RopeScaling(type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192)
        llama3.ropeTheta = 500_000
        llama3.eosTokenIDs = [1, 2, 3]
        llama3.bosTokenID = nil
        var qwen = Fixtures.m2Config
        qwen.slidingWindow = 64
        for config in [llama3, qwen] {
            #expect(try decode(String(decoding: config.hfConfigJSON(), as: UTF8.self)) == config)
        }
        let text = String(decoding: Fixtures.m1Config.hfConfigJSON(), as: UTF8.self)
        #expect(text.contains("\"rms_norm_eps\": 1e-05"))
    }
}
