import Foundation
import Testing
@testable import ModelFormat

/// Each case copies a fixture folder to a temp dir, breaks one thing, and checks the error code and that
/// the one-line message names the file and the key or tensor.
@Suite("Malformed Hugging Face folders give clear errors")
struct MalformedSafetensorsTests {
    /// Copies `folder`'s config.json and model.safetensors into a fresh temp dir.
    private func copyFolder(_ folder: String, in temp: TemporaryDirectory) throws -> String {
        let destination = temp.file("model")
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: folder + "/" + name, toPath: destination + "/" + name)
        }
        return destination
    }

    private func editConfig(_ folder: String, _ edit: (inout [String: Any]) -> Void) throws {
        let path = folder + "/config.json"
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
    }

    /// Rewrites a safetensors file's JSON header, keeping the data section.
    static func editHeader(_ path: String, _ edit: (inout [String: Any]) -> Void) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = Int(data.le(UInt64.self, at: 0))
        var header = try #require(try JSONSerialization.jsonObject(with: data[8..<(8 + length)]) as? [String: Any])
        edit(&header)
        var json = try JSONSerialization.data(withJSONObject: header)
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out = Data()
        out.setLEAppend(UInt64(json.count))
        out.append(json)
        out.append(data[(8 + length)...])
        try out.write(to: URL(fileURLWithPath: path))
    }

    @Test("missing config.json or weights → missingFile naming the file")
    func missingFiles() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let folder = try copyFolder(Fixtures.m1, in: temp)
        try FileManager.default.removeItem(atPath: folder + "/model.safetensors")
        let noWeights = expectError(.missingFile) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(noWeights?.description.hasPrefix(folder + "/model.safetensors: missing") == true)
        try FileManager.default.removeItem(atPath: folder + "/config.json")
        let noConfig = expectError(.missingFile) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(noConfig?.description == folder + "/config.json: missing; a Hugging Face model folder needs config.json")
    }

    @Test("a config that disagrees with the weights → wrongShape naming tensor, found and expected shape, and reason")
    func wrongShape() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let folder = try copyFolder(Fixtures.m1, in: temp)
        try editConfig(folder) { $0["num_key_value_heads"] = 4 }
        let error = expectError(.wrongShape) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(error?.description == folder + "/model.safetensors: tensor 'model.layers.0.self_attn.k_proj.weight' has shape [32, 64]; expected [64, 64] (num_key_value_heads=4 x head_dim=16, hidden_size=64)")
        try editConfig(folder) { $0["num_key_value_heads"] = 2; $0["vocab_size"] = 2048 }
        let vocab = expectError(.wrongShape) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(vocab?.message.contains("'model.embed_tokens.weight' has shape [1024, 64]; expected [2048, 64]") == true)
    }

    @Test("untying an untied-in-file model, or dropping a tensor → missingTensor naming it")
    func missingTensors() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let folder = try copyFolder(Fixtures.m1, in: temp)
        try editConfig(folder) { $0["tie_word_embeddings"] = false }
        let lmHead = expectError(.missingTensor) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(lmHead?.message.contains("tensor 'lm_head.weight' is missing; expected shape [1024, 64]") == true)

        let qwen = try copyFolder(Fixtures.m2, in: TemporaryDirectory())
        defer { try? FileManager.default.removeItem(atPath: (qwen as NSString).deletingLastPathComponent) }
        try Self.editHeader(qwen + "/model.safetensors") { $0["model.layers.1.self_attn.k_proj.bias"] = nil }
        let bias = expectError(.missingTensor) { _ = try ModelCheckpoint.load(path: qwen) }
        #expect(bias?.message.contains("'model.layers.1.self_attn.k_proj.bias' is missing") == true)
        #expect(bias?.message.contains("qwen2 has q/k/v biases") == true)
    }

    @Test("an unsupported dtype → unsupportedDType naming tensor and dtype")
    func unsupportedDType() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let folder = try copyFolder(Fixtures.m1, in: temp)
        try Self.editHeader(folder + "/model.safetensors") { header in
            var entry = header["model.norm.weight"] as! [String: Any]
            entry["dtype"] = "I8"
            header["model.norm.weight"] = entry
        }
        let error = expectError(.unsupportedDType) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(error?.description == folder + "/model.safetensors: tensor 'model.norm.weight' has dtype I8; supported: F32, F16, BF16")
    }

    @Test("offsets that disagree with shape x dtype, or run past the end → badHeader / truncated")
    func badOffsets() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let folder = try copyFolder(Fixtures.m1, in: temp)
        let weights = folder + "/model.safetensors"
        try Self.editHeader(weights) { header in
            var entry = header["model.norm.weight"] as! [String: Any]
            entry["shape"] = [65]
            header["model.norm.weight"] = entry
        }
        let size = expectError(.badHeader) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(size?.message.contains("tensor 'model.norm.weight' has 128 bytes") == true)

        try FileManager.default.removeItem(atPath: weights)
        try FileManager.default.copyItem(atPath: Fixtures.m1 + "/model.safetensors", toPath: weights)
        let handle = try #require(FileHandle(forUpdatingAtPath: weights))
        let length = try handle.seekToEnd()
        try handle.truncate(atOffset: length - 100)
        try handle.close()
        let truncated = expectError(.truncated) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(truncated?.message.contains("data ends at byte") == true)
    }

    @Test("bad header length, bad JSON, empty file → one-line errors, no allocation of the claimed size")
    func corruptHeaders() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let folder = try copyFolder(Fixtures.m1, in: temp)
        let weights = folder + "/model.safetensors"
        let original = try Data(contentsOf: URL(fileURLWithPath: weights))
        var cases: [(ModelFormatError.Code, Data)] = []
        var huge = original; huge.setLE(UInt64(1) << 40, at: 0); cases.append((.badHeader, huge))
        var past = original; past.setLE(UInt64(original.count), at: 0); cases.append((.truncated, past))
        var notJSON = original; notJSON[8] = UInt8(ascii: "x"); cases.append((.badMagic, notJSON))
        var brokenJSON = original; brokenJSON[20] = UInt8(ascii: "}"); cases.append((.badHeader, brokenJSON))
        cases.append((.truncated, Data()))
        cases.append((.truncated, original.prefix(5)))
        for (code, bytes) in cases {
            try bytes.write(to: URL(fileURLWithPath: weights))
            let error = expectError(code) { _ = try ModelCheckpoint.load(path: folder) }
            #expect(error?.file == weights)
        }
    }

    @Test("generation_config.json eos ids join config.json's; a broken one is named")
    func generationConfig() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let folder = try copyFolder(Fixtures.m1, in: temp)
        let path = folder + "/generation_config.json"
        try Data(#"{"eos_token_id": [1023, 5, 7], "bos_token_id": 1023}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try ModelCheckpoint.load(path: folder).configuration.eosTokenIDs == [1023, 5, 7])
        try Data(#"{"eos_token_id": "x"}"#.utf8).write(to: URL(fileURLWithPath: path))
        let error = expectError(.invalidValue) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(error?.description.hasPrefix(path + ": key 'eos_token_id' is a string") == true)
        try Data(#"{"eos_token_id": [4096]}"#.utf8).write(to: URL(fileURLWithPath: path))
        expectError(.inconsistentConfig) { _ = try ModelCheckpoint.load(path: folder) }
    }

    @Test("unknown architecture and inconsistent config are reported before any weight is read")
    func configErrors() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let folder = try copyFolder(Fixtures.m3, in: temp)
        try editConfig(folder) { $0["model_type"] = "gemma" }
        let unknown = expectError(.unknownArchitecture) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(unknown?.description == folder + "/config.json: model_type is 'gemma'; expected one of llama, mistral, qwen2")
        try editConfig(folder) { $0["model_type"] = "mistral"; $0["num_key_value_heads"] = 3 }
        let gqa = expectError(.inconsistentConfig) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(gqa?.file == folder + "/config.json")
    }

    @Test("sharded folders load through model.safetensors.index.json; broken indexes are named")
    func shardedFolder() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let reference = try ModelCheckpoint.load(path: Fixtures.m2)
        let folder = temp.file("sharded")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.m2 + "/config.json", toPath: folder + "/config.json")
        let names = reference.tensorNames
        var weightMap: [String: String] = [:]
        for (shard, part) in [names.filter { $0.contains("layers.1") }, names.filter { !$0.contains("layers.1") }].enumerated() {
            let file = "model-0000\(shard + 1)-of-00002.safetensors"
            let tensors = try part.map { name in
                let t = try reference.tensor(name)
                return (name: name, dtype: t.dtype, shape: t.shape, bytes: [UInt8](t.data))
            }
            try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: folder + "/" + file)
            for name in part { weightMap[name] = file }
        }
        let index = try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": weightMap])
        try index.write(to: URL(fileURLWithPath: folder + "/model.safetensors.index.json"))
        let sharded = try ModelCheckpoint.load(path: folder)
        #expect(sharded.tensorNames == names)
        #expect(sharded.safetensorsMetadata["format"] == "pt")
        for name in names { #expect(try [UInt8](sharded.tensor(name).data) == [UInt8](reference.tensor(name).data)) }

        var wrongPlace = weightMap
        wrongPlace["model.norm.weight"] = "model-00001-of-00002.safetensors"
        try JSONSerialization.data(withJSONObject: ["weight_map": wrongPlace]).write(to: URL(fileURLWithPath: folder + "/model.safetensors.index.json"))
        let misplaced = expectError(.missingTensor) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(misplaced?.description.contains("model-00001-of-00002.safetensors: has no tensor 'model.norm.weight'") == true)

        try FileManager.default.removeItem(atPath: folder + "/model-00002-of-00002.safetensors")
        let missing = expectError(.missingFile) { _ = try ModelCheckpoint.load(path: folder) }
        #expect(missing?.file == folder + "/model-00002-of-00002.safetensors")
    }
}

extension Data {
    mutating func setLEAppend<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
