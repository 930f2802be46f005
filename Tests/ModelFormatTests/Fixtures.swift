import Foundation
import Testing
@testable import ModelFormat

/// Paths of the repository's fixture checkpoints, found from this file's location.
enum Fixtures {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // Tests/ModelFormatTests/Fixtures.swift → root
        return url.path
    }()

    static func path(_ relative: String) -> String { repositoryRoot + "/" + relative }

    static let m1 = path("Tests/Fixtures/models/m1_llama_gqa_tied")
    static let m2 = path("Tests/Fixtures/models/m2_qwen2_bias")
    static let m3 = path("Tests/Fixtures/models/m3_mistral_spm")
    static let m1F32 = path("Tests/Fixtures/gguf/m1_llama_gqa_tied-f32.gguf")
    static let m1Q8 = path("Tests/Fixtures/gguf/m1_llama_gqa_tied-q8_0.gguf")
    static let m2F32 = path("Tests/Fixtures/gguf/m2_qwen2_bias-f32.gguf")
    static let m2Q8 = path("Tests/Fixtures/gguf/m2_qwen2_bias-q8_0.gguf")
    static let pycode = path("Sources/specula/Resources/models/pycode-6m")
    static let pycodeF32 = path("Tests/Fixtures/pycode-6m/pycode-6m-f32.gguf")
    static let pycodeF16 = path("Tests/Fixtures/pycode-6m/pycode-6m-f16.gguf")

    static let allGGUF = [m1F32, m1Q8, m2F32, m2Q8, pycodeF32, pycodeF16]

    // Configurations as Tests/Fixtures/README.md and the pycode-6m README describe them.
    static let m1Config = ModelConfiguration(
        architecture: .llama, hiddenSize: 64, intermediateSize: 192, numHiddenLayers: 2, numAttentionHeads: 4,
        numKeyValueHeads: 2, headDim: 16, vocabSize: 1024, maxPositionEmbeddings: 1024, rmsNormEps: 1e-5,
        ropeTheta: 10000, tieWordEmbeddings: true, attentionBias: false, bosTokenID: 1023, eosTokenIDs: [1023])
    static let m2Config = ModelConfiguration(
        architecture: .qwen2, hiddenSize: 96, intermediateSize: 256, numHiddenLayers: 2, numAttentionHeads: 3,
        numKeyValueHeads: 1, headDim: 32, vocabSize: 1664, maxPositionEmbeddings: 2048, rmsNormEps: 1e-6,
        ropeTheta: 1_000_000, tieWordEmbeddings: false, attentionBias: true, bosTokenID: 1532, eosTokenIDs: [1533])
    static let m3Config = ModelConfiguration(
        architecture: .mistral, hiddenSize: 128, intermediateSize: 320, numHiddenLayers: 2, numAttentionHeads: 4,
        numKeyValueHeads: 2, headDim: 32, vocabSize: 1024, maxPositionEmbeddings: 2048, rmsNormEps: 1e-5,
        ropeTheta: 10000, tieWordEmbeddings: false, attentionBias: false, slidingWindow: 1024, bosTokenID: 1, eosTokenIDs: [2])
    static let pycodeConfig = ModelConfiguration(
        architecture: .llama, hiddenSize: 256, intermediateSize: 768, numHiddenLayers: 6, numAttentionHeads: 8,
        numKeyValueHeads: 4, headDim: 32, vocabSize: 4096, maxPositionEmbeddings: 1024, rmsNormEps: 1e-5,
        ropeTheta: 10000, tieWordEmbeddings: true, attentionBias: false, bosTokenID: 0, eosTokenIDs: [0])
}

/// A fresh temporary directory, removed when the test ends (call `remove()` in a defer).
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "modelformat-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Copies a fixture folder's files (or one file) into this directory and returns the copy's path.
    func copy(_ source: String, as name: String? = nil) throws -> String {
        let destination = file(name ?? (source as NSString).lastPathComponent)
        try FileManager.default.copyItem(atPath: source, toPath: destination)
        return destination
    }
}

/// Runs `body`, expecting a `ModelFormatError` with `code`; returns it for further checks.
@discardableResult
func expectError(_ code: ModelFormatError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () throws -> Void) -> ModelFormatError? {
    do {
        try body()
        Issue.record("expected a \(code) error, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ModelFormatError {
        #expect(error.code == code, "got \(error.code): \(error)", sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), "message must be one line: \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected ModelFormatError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

extension Data {
    /// Little-endian integer read at `offset`.
    func le<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        var value = T.zero
        _ = Swift.withUnsafeMutableBytes(of: &value) { self.copyBytes(to: $0, from: offset..<(offset + MemoryLayout<T>.size)) }
        return T(littleEndian: value)
    }

    mutating func setLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value.littleEndian) { replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: $0) }
    }

    /// Offset just past the first occurrence of `string`'s UTF-8 bytes.
    func offset(after string: String) -> Int? {
        range(of: Data(string.utf8)).map(\.upperBound)
    }
}
