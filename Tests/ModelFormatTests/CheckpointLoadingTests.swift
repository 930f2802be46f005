import Foundation
import Testing
@testable import ModelFormat

@Suite("ModelCheckpoint: loading every fixture checkpoint")
struct CheckpointLoadingTests {
    @Test("Hugging Face folders load with their configuration and every tensor", arguments: [
        (Fixtures.m1, Fixtures.m1Config), (Fixtures.m2, Fixtures.m2Config),
        (Fixtures.m3, Fixtures.m3Config), (Fixtures.pycode, Fixtures.pycodeConfig),
    ])
    func safetensorsFolders(folder: String, expected: ModelConfiguration) throws {
        let checkpoint = try ModelCheckpoint.load(path: folder)
        #expect(checkpoint.format == .safetensors)
        #expect(checkpoint.configuration == expected)
        #expect(checkpoint.ggufMetadata.isEmpty)
        let needed = ModelCheckpoint.expectedTensors(expected).filter { !(expected.tieWordEmbeddings && $0.name == "lm_head.weight") }
        #expect(checkpoint.tensorNames.count == needed.count)
        for expectation in needed {
            let tensor = try checkpoint.tensor(expectation.name)
            #expect(tensor.shape == expectation.shape && tensor.dtype == .bf16)
            #expect(tensor.data.count == tensor.elementCount * 2)
        }
        #expect(checkpoint.hasTensor("lm_head.weight") == !expected.tieWordEmbeddings)
    }

    @Test("GGUF files load with the same configuration as their safetensors source", arguments: [
        (Fixtures.m1F32, Fixtures.m1Config, DType.f32), (Fixtures.m1Q8, Fixtures.m1Config, .q8_0),
        (Fixtures.m2F32, Fixtures.m2Config, .f32), (Fixtures.m2Q8, Fixtures.m2Config, .q8_0),
        (Fixtures.pycodeF32, Fixtures.pycodeConfig, .f32), (Fixtures.pycodeF16, Fixtures.pycodeConfig, .f16),
    ])
    func ggufFiles(path: String, expected: ModelConfiguration, weightType: DType) throws {
        let checkpoint = try ModelCheckpoint.load(path: path)
        #expect(checkpoint.format == .gguf)
        #expect(checkpoint.configuration == expected)
        #expect(checkpoint.ggufMetadata["tokenizer.ggml.model"]?.string == "gpt2")
        #expect(checkpoint.ggufMetadata["tokenizer.ggml.tokens"]?.stringArray?.count == expected.vocabSize)
        #expect(try checkpoint.tensor("model.layers.1.mlp.down_proj.weight").dtype == weightType)
        #expect(try checkpoint.tensor("model.norm.weight").dtype == .f32)
        #expect(try checkpoint.tensor("model.embed_tokens.weight").shape == [expected.vocabSize, expected.hiddenSize])
    }

    @Test("tensor views point into the file mapping: nothing is copied but GGUF llama q/k")
    func zeroCopy() throws {
        let folder = try ModelCheckpoint.load(path: Fixtures.pycode)
        for name in folder.tensorNames {
            #expect(try folder.tensor(name).storage is MappedFile, "\(name)")
        }
        let gguf = try ModelCheckpoint.load(path: Fixtures.pycodeF32)
        for name in gguf.tensorNames {
            let unpermuted = name.hasSuffix("q_proj.weight") || name.hasSuffix("k_proj.weight")
            #expect((try gguf.tensor(name).storage is OwnedBuffer) == unpermuted, "\(name)")
        }
        let qwen = try ModelCheckpoint.load(path: Fixtures.m2F32)  // qwen2 is not permuted by llama.cpp
        for name in qwen.tensorNames {
            #expect(try qwen.tensor(name).storage is MappedFile, "\(name)")
        }
    }

    @Test("a tensor outlives its checkpoint (it retains the mapping)")
    func tensorOutlivesCheckpoint() throws {
        var checkpoint: ModelCheckpoint? = try ModelCheckpoint.load(path: Fixtures.m1)
        let tensor = try #require(try checkpoint?.tensor("model.norm.weight"))
        let before = tensor.floats()
        checkpoint = nil
        #expect(tensor.floats() == before)
    }

    @Test("pycode-6m loads in milliseconds (safetensors and GGUF)")
    func loadTime() throws {
        for path in [Fixtures.pycode, Fixtures.pycodeF16] {
            _ = try ModelCheckpoint.load(path: path)  // warm the page cache
            let clock = ContinuousClock()
            let elapsed = try clock.measure { _ = try ModelCheckpoint.load(path: path) }
            print("load \((path as NSString).lastPathComponent): \(elapsed)")
            // Debug build, GGUF includes parsing 4096 tokens + 3839 merges and un-permuting q/k.
            #expect(elapsed < .milliseconds(250), "\(path) took \(elapsed)")
        }
    }

    @Test("a path to a file inside an HF folder loads the folder; unknown names give missingTensor")
    func pathsAndLookups() throws {
        let checkpoint = try ModelCheckpoint.load(path: Fixtures.m1 + "/model.safetensors")
        #expect(checkpoint.configuration == Fixtures.m1Config)
        let error = expectError(.missingTensor) { _ = try checkpoint.tensor("lm_head.weight") }
        #expect(error?.description.contains("'lm_head.weight'") == true)
        #expect(error?.description.contains("tied") == true)
        expectError(.missingFile) { _ = try ModelCheckpoint.load(path: Fixtures.m1 + "-nonexistent") }
    }
}
