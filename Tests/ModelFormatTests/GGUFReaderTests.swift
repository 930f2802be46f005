import TestRandom
import Foundation
import Testing
@testable import ModelFormat

@Suite("GGUF reader: typed metadata, alignment, Q8_0, naming and errors")
struct GGUFReaderTests {
    private func write(_ bytes: [UInt8], _ temp: TemporaryDirectory, _ name: String = "tiny.gguf") throws -> String {
        let path = temp.file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("a tiny GGUF built in memory reads back: all value types, nested arrays, alignment", arguments: [32, 64])
    func tinyRoundTrip(alignment: Int) throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let path = try write(try TinyGGUF.bytes(alignment: alignment), temp)
        let checkpoint = try ModelCheckpoint.load(path: path)
        let metadata = checkpoint.ggufMetadata
        for (key, value) in TinyGGUF.metadata() { #expect(metadata[key] == value, "\(key)") }
        #expect(metadata["test.u64"]?.int == 1 << 40 && metadata["test.f64"]?.float == 0.25)
        #expect(metadata["test.nested"]?.array?.first?.intArray == [-3, 4])
        let c = checkpoint.configuration
        #expect(c.hiddenSize == 32 && c.numKeyValueHeads == 1 && c.headDim == 16 && c.vocabSize == 8)
        #expect(c.tieWordEmbeddings && c.bosTokenID == 1 && c.eosTokenIDs == [2])
        let norm = try checkpoint.tensor("model.layers.0.input_layernorm.weight")
        #expect(norm.floats() == TinyGGUF.values("blk.0.attn_norm.weight", count: 32))
        #expect(Int(bitPattern: norm.data.baseAddress) % alignment == 0)  // mmap base is page-aligned
    }

    @Test("q8_0 weights dequantize to the quantized values; q rows are un-permuted per head")
    func q8AndUnpermute() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let checkpoint = try ModelCheckpoint.load(path: try write(try TinyGGUF.bytes(matrixType: .q8_0), temp))
        let q = try checkpoint.tensor("model.layers.0.self_attn.q_proj.weight")
        #expect(q.dtype == .q8_0 && q.shape == [32, 32] && q.data.count == 32 * 34)
        // The file holds "permuted" rows; loading moves GGUF row h*16 + 2i + j to HF row h*16 + 8j + i.
        let stored = TinyGGUF.values("blk.0.attn_q.weight", count: 32 * 32)
        let d = stored.map(abs).max()! / 127
        let loaded = q.floats()
        for h in 0..<2 { for i in 0..<8 { for j in 0..<2 {
            let hfRow = h * 16 + 8 * j + i, ggufRow = h * 16 + 2 * i + j
            for col in 0..<32 {
                #expect(abs(loaded[hfRow * 32 + col] - stored[ggufRow * 32 + col]) <= d)
            }
        } } }
        let v = try checkpoint.tensor("model.layers.0.self_attn.v_proj.weight")
        #expect(v.storage is MappedFile)  // v is not permuted: still a view
    }

    @Test("qwen2 GGUFs are not un-permuted and carry biases")
    func qwen2() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let checkpoint = try ModelCheckpoint.load(path: try write(try TinyGGUF.bytes(arch: "qwen2"), temp))
        #expect(checkpoint.configuration.architecture == .qwen2 && checkpoint.configuration.attentionBias)
        let q = try checkpoint.tensor("model.layers.0.self_attn.q_proj.weight")
        #expect(q.floats() == TinyGGUF.values("blk.0.attn_q.weight", count: 32 * 32))
        #expect(try checkpoint.tensor("model.layers.0.self_attn.k_proj.bias").shape == [16])
    }

    @Test("llama3 RoPE scaling stored as rope_freqs.weight is recovered as an equivalent RopeScaling", arguments: [
        (Float(8), Float(1), Float(4), 2048, true), (32, 1, 4, 2048, false), (8, 2, 8, 1024, false),
        (8, 1, 1.5, 300, false),
    ])
    func ropeFrequencies(factor: Float, low: Float, high: Float, original: Int, withMetadata: Bool) throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let expected = RopeScaling(type: "llama3", factor: factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositionEmbeddings: original)
        let divisors = GGUFRopeFrequencies.llama3Divisors(expected, theta: 10000, headDim: TinyGGUF.headDim)
        #expect(divisors.first == 1 && divisors.last == factor)
        let tensor = GGUFWriter.TensorEntry(name: "rope_freqs.weight", dtype: .f32, shape: [divisors.count],
                                            bytes: divisors.withUnsafeBytes { [UInt8]($0) })
        let metadata: [(String, GGUFValue)] = withMetadata ? [("llama.rope.scaling.original_context_length", .uint32(UInt32(original)))] : []
        let path = try write(try TinyGGUF.bytes(extraMetadata: metadata, extraTensors: [tensor]), temp)
        let scaling = try #require(try ModelCheckpoint.load(path: path).configuration.ropeScaling)
        #expect(scaling.type == "llama3" && scaling.factor == factor)
        if withMetadata { #expect(scaling == expected) }
        let recovered = GGUFRopeFrequencies.llama3Divisors(scaling, theta: 10000, headDim: TinyGGUF.headDim)
        for (a, e) in zip(recovered, divisors) { #expect(abs(a - e) <= 1e-3 * e) }

        let wrong = GGUFWriter.TensorEntry(name: "rope_freqs.weight", dtype: .f32, shape: [3], bytes: [Float](repeating: 2, count: 3).withUnsafeBytes { [UInt8]($0) })
        let wrongPath = try write(try TinyGGUF.bytes(extraTensors: [wrong]), temp, "wrong.gguf")
        expectError(.wrongShape) { _ = try ModelCheckpoint.load(path: wrongPath) }
    }

    @Test("Llama 3.1 / 3.2 rope_freqs (head_dim 128, theta 500000) map back to their exact config values")
    func realLlama3() throws {
        for factor: Float in [8, 32] {
            let real = RopeScaling(type: "llama3", factor: factor, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192)
            let divisors = GGUFRopeFrequencies.llama3Divisors(real, theta: 500_000, headDim: 128)
            let recovered = try GGUFRopeFrequencies.scaling(divisors: divisors, theta: 500_000, headDim: 128, originalContext: nil, file: "x.gguf")
            #expect(recovered == real)
        }
        #expect(try GGUFRopeFrequencies.scaling(divisors: [Float](repeating: 1, count: 64), theta: 500_000, headDim: 128, originalContext: nil, file: "x") == nil)
        expectError(.unsupportedFeature) {
            _ = try GGUFRopeFrequencies.scaling(divisors: (0..<64).map { Float(64 - $0) }, theta: 500_000, headDim: 128, originalContext: nil, file: "x")
        }
    }

    @Test("missing tensors and metadata keys are named in llama.cpp and HF terms")
    func missingPieces() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let noDown = try write(try TinyGGUF.bytes(dropping: "blk.0.ffn_down.weight"), temp, "a.gguf")
        let tensor = expectError(.missingTensor) { _ = try ModelCheckpoint.load(path: noDown) }
        #expect(tensor?.description == noDown + ": tensor 'blk.0.ffn_down.weight' (model.layers.0.mlp.down_proj.weight) is missing; expected shape [32, 64] (hidden_size=32, intermediate_size=64)")
        let noBias = try write(try TinyGGUF.bytes(arch: "qwen2", dropping: "blk.0.attn_v.bias"), temp, "b.gguf")
        expectError(.missingTensor) { _ = try ModelCheckpoint.load(path: noBias) }
        let noKey = try write(try TinyGGUF.bytes(dropping: "llama.embedding_length"), temp, "c.gguf")
        let key = expectError(.missingKey) { _ = try ModelCheckpoint.load(path: noKey) }
        #expect(key?.message.contains("'llama.embedding_length'") == true)
        let noEmbedding = try write(try TinyGGUF.bytes(dropping: "token_embd.weight"), temp, "d.gguf")
        expectError(.missingTensor) { _ = try ModelCheckpoint.load(path: noEmbedding) }
        let metadataOnly = try write(try GGUFWriter.encode(metadata: TinyGGUF.metadata(), tensors: []), temp, "f.gguf")
        let noTensors = expectError(.missingTensor) { _ = try ModelCheckpoint.load(path: metadataOnly) }
        #expect(noTensors?.message.contains("'token_embd.weight'") == true)
        let noArch = try write(try TinyGGUF.bytes(dropping: "general.architecture"), temp, "e.gguf")
        expectError(.unknownArchitecture) { _ = try ModelCheckpoint.load(path: noArch) }
    }

    @Test("byte-level corruption of the fixture GGUF gives the right code and names the tensor or key")
    func corruptedFixture() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let original = try Data(contentsOf: URL(fileURLWithPath: Fixtures.m1F32))
        let path = temp.file("m1.gguf")
        func load(_ data: Data) -> ModelFormatError? {
            try? data.write(to: URL(fileURLWithPath: path))
            var result: ModelFormatError?
            do { _ = try ModelCheckpoint.load(path: path) } catch { result = error as? ModelFormatError }
            return result
        }
        var magic = original; magic[3] = UInt8(ascii: "X")
        #expect(load(magic)?.code == .badMagic)
        #expect(load(magic)?.message == "starts with bytes 47 47 55 58; expected 'GGUF' (47 47 55 46)")
        var version = original; version.setLE(UInt32(4), at: 4)
        #expect(load(version)?.code == .unsupportedVersion)

        // Tensor info: name, n_dims (u32), ne[n_dims] (u64), type (u32), offset (u64).
        let normInfo = try #require(original.offset(after: "blk.0.attn_norm.weight"))
        var type = original; type.setLE(UInt32(12), at: normInfo + 4 + 8)
        let typeError = load(type)
        #expect(typeError?.code == .unsupportedDType)
        #expect(typeError?.message == "tensor 'blk.0.attn_norm.weight' has ggml type 12 (Q4_K); supported: F32 (0), F16 (1), Q8_0 (8), BF16 (30)")

        let kInfo = try #require(original.offset(after: "blk.0.attn_k.weight"))
        var shape = original; shape.setLE(UInt64(16), at: kInfo + 4 + 8)
        let shapeError = load(shape)
        #expect(shapeError?.code == .wrongShape)
        #expect(shapeError?.description == path + ": tensor 'blk.0.attn_k.weight' (model.layers.0.self_attn.k_proj.weight) has shape [16, 64]; expected [32, 64] (num_key_value_heads=2 x head_dim=16, hidden_size=64)")

        let archValue = try #require(original.offset(after: "general.architecture")) + 4 + 8
        var arch = original; arch.replaceSubrange(archValue..<(archValue + 5), with: Data("bloom".utf8))
        #expect(load(arch)?.code == .unknownArchitecture)
        #expect(load(arch)?.message.contains("'bloom'") == true)

        let truncatedError = load(original.prefix(original.count - 100))
        #expect(truncatedError?.code == .truncated)
        #expect(truncatedError?.message.contains("tensor 'output_norm.weight' data ends at byte") == true)

        let tokensLength = try #require(original.offset(after: "tokenizer.ggml.tokens")) + 4 + 4
        var hugeArray = original; hugeArray.setLE(UInt64(1) << 60, at: tokensLength)
        #expect(load(hugeArray)?.code == .badHeader)
        let nameLength = try #require(original.offset(after: "general.name")) + 4
        var hugeString = original; hugeString.setLE(UInt64(1) << 50, at: nameLength)
        #expect(load(hugeString)?.code == .badHeader)
        var tensorCount = original; tensorCount.setLE(UInt64.max, at: 8)
        #expect(load(tensorCount)?.code == .badHeader)
    }

    @Test("truncating a GGUF at any header offset and many data offsets throws, never crashes")
    func truncationSweep() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        let original = try Data(contentsOf: URL(fileURLWithPath: Fixtures.m1Q8))
        let headerEnd = 28611  // end of the tensor infos of this fixture
        let offsets = Array(0..<512) + Array(stride(from: 512, to: headerEnd + 64, by: 7))
            + Array(stride(from: headerEnd + 64, to: original.count, by: 997))
        let path = temp.file("cut.gguf")
        var codes: [String: Int] = [:]
        for length in offsets {
            try original.prefix(length).write(to: URL(fileURLWithPath: path))
            do {
                _ = try ModelCheckpoint.load(path: path)
                Issue.record("a GGUF cut at \(length) of \(original.count) bytes loaded")
            } catch let error as ModelFormatError {
                codes[error.code.rawValue, default: 0] += 1
                #expect([.truncated, .badMagic].contains(error.code) || length < 4, "\(length): \(error)")
                #expect(!error.description.contains("\n"))
            }
        }
        #expect(codes["truncated", default: 0] > offsets.count - 10)
    }

    @Test("random byte flips in GGUF and safetensors headers either load or throw ModelFormatError", arguments: [
        (Fixtures.m1Q8, "m.gguf", 28611), (Fixtures.m2 + "/model.safetensors", "model.safetensors", 4000),
    ])
    func byteFlips(source: String, name: String, headerBytes: Int) throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        try FileManager.default.copyItem(atPath: Fixtures.m2 + "/config.json", toPath: temp.file("config.json"))
        let original = try Data(contentsOf: URL(fileURLWithPath: source))
        let path = temp.file(name)
        var generator = SplitMix64(seed: UInt64(headerBytes))
        var outcomes = (loaded: 0, failed: 0)
        for _ in 0..<400 {
            var bytes = original
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                bytes[Int(generator.next() % UInt64(headerBytes))] = UInt8(truncatingIfNeeded: generator.next())
            }
            try bytes.write(to: URL(fileURLWithPath: path))
            do {
                _ = try ModelCheckpoint.load(path: name.hasSuffix(".gguf") ? path : temp.path)
                outcomes.loaded += 1
            } catch let error as ModelFormatError {
                outcomes.failed += 1
                #expect(!error.description.contains("\n"))
            }
        }
        #expect(outcomes.failed > 0)
    }

    @Test("random garbage, with or without a GGUF or safetensors-like prefix, throws a ModelFormatError")
    func randomGarbage() throws {
        let temp = try TemporaryDirectory()
        defer { temp.remove() }
        var generator = SplitMix64(seed: 0x5EED)
        let prefixes: [[UInt8]] = [[], Array("GGUF".utf8) + [3, 0, 0, 0], Array("GGUF".utf8) + [3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]]
        let path = temp.file("garbage.gguf")
        for round in 0..<300 {
            let count = Int(generator.next() % 4096)
            var bytes = prefixes[round % prefixes.count]
            bytes += (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(throws: ModelFormatError.self) { _ = try ModelCheckpoint.load(path: path) }
        }
        // Garbage as a safetensors file in an otherwise valid folder.
        let folder = temp.file("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixtures.m1 + "/config.json", toPath: folder + "/config.json")
        for _ in 0..<200 {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: (generator.next() % 600).littleEndian) { bytes += $0 }
            bytes += [UInt8(ascii: "{")] + (0..<Int(generator.next() % 700)).map { _ in UInt8(truncatingIfNeeded: generator.next() % 96 + 32) }
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
            #expect(throws: ModelFormatError.self) { _ = try ModelCheckpoint.load(path: folder) }
        }
    }
}
