import Foundation

/// A model's configuration and weights, memory-mapped from a Hugging Face folder or a GGUF file.
///
/// Tensors are views into the mappings (no copies), named and shaped as Hugging Face does, and checked
/// against the configuration when loading. The only copies are GGUF llama `attn_q`/`attn_k` weights,
/// whose rows llama.cpp's converter permuted; they are un-permuted into buffers owned here.
///
/// `@unchecked Sendable`: every stored property is immutable after `load`, and the memory behind the
/// tensors is read-only.
public final class ModelCheckpoint: @unchecked Sendable {
    /// Where the weights come from.
    public enum Format: String, Sendable {
        case safetensors, gguf
    }

    /// The path passed to `load` (a folder or a `.gguf` file).
    public let path: String
    public let format: Format
    public let configuration: ModelConfiguration
    /// GGUF key/value metadata (`tokenizer.ggml.*` etc.); empty for safetensors.
    public let ggufMetadata: [String: GGUFValue]
    /// `__metadata__` of the safetensors file(s); empty for GGUF.
    public let safetensorsMetadata: [String: String]
    private let tensors: [String: Tensor]
    private let sortedNames: [String]

    /// Every tensor's canonical name, sorted. GGUF tensors without an HF name keep their llama.cpp name
    /// (e.g. `rope_freqs.weight`).
    public var tensorNames: [String] { sortedNames }

    init(path: String, format: Format, configuration: ModelConfiguration, ggufMetadata: [String: GGUFValue],
         safetensorsMetadata: [String: String], tensors: [String: Tensor]) {
        self.path = path
        self.format = format
        self.configuration = configuration
        self.ggufMetadata = ggufMetadata
        self.safetensorsMetadata = safetensorsMetadata
        self.tensors = tensors
        self.sortedNames = tensors.keys.sorted()
    }

    /// Loads and validates a checkpoint.
    /// - Parameter path: a Hugging Face folder (`config.json` plus `model.safetensors`, or shards listed in
    ///   `model.safetensors.index.json`), or a `.gguf` file.
    /// - Throws: `ModelFormatError` naming the file and the key or tensor at fault.
    public static func load(path: String) throws -> ModelCheckpoint {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelFormatError(.missingFile, file: path, "no such file or directory; expected a Hugging Face model folder or a .gguf file")
        }
        if isDirectory.boolValue { return try loadFolder(path) }
        if try startsWithGGUFMagic(path) || path.hasSuffix(".gguf") { return try loadGGUF(path) }
        if path.hasSuffix(".safetensors") || path.hasSuffix(".json") {
            // A file inside a Hugging Face folder: load the folder.
            let folder = (path as NSString).deletingLastPathComponent
            return try loadFolder(folder.isEmpty ? "." : folder)
        }
        throw ModelFormatError(.badMagic, file: path, "is neither a GGUF file nor a Hugging Face model folder")
    }

    /// The tensor with this canonical name.
    /// - Throws: `missingTensor` naming the checkpoint and the tensor.
    public func tensor(_ name: String) throws -> Tensor {
        guard let tensor = tensors[name] else {
            let hint = configuration.tieWordEmbeddings && name == "lm_head.weight"
                ? " (embeddings are tied: use model.embed_tokens.weight)" : ""
            throw ModelFormatError(.missingTensor, file: path, "has no tensor '\(name)'\(hint); it has \(tensors.count) tensors")
        }
        return tensor
    }

    public func hasTensor(_ name: String) -> Bool { tensors[name] != nil }

    private static func startsWithGGUFMagic(_ path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ModelFormatError(.missingFile, file: path, "cannot open file for reading")
        }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        return magic == Data("GGUF".utf8)
    }
}
