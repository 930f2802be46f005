import ArgumentParser
import Foundation
import ModelFormat

/// `specula synth`: benchmark checkpoints of real shapes, random or computing exactly another model's function.
struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic Hugging Face checkpoint for benchmarks.",
        discussion: """
            Random weights of a named or given shape, or with --embed MODEL a checkpoint of that shape that computes \
            exactly MODEL's function (MODEL's weights in the leading rows and columns, zeros elsewhere, zero-projection \
            extra layers, RMSNorm weights x sqrt(D/D') and epsilon x D/D'). With --embed the vocabulary and head size \
            are MODEL's, heads = hidden / head size, and the KV heads keep MODEL's grouping.
            """)

    @Option(help: "Model to embed (a Hugging Face folder).") var embed: String?
    @Option(help: "Shape preset: \(SynthShape.presets.keys.sorted().joined(separator: ", ")).") var like: String?
    @Option(help: "Layers.") var layers: Int?
    @Option(help: "Hidden size.") var hidden: Int?
    @Option(help: "Attention heads.") var heads: Int?
    @Option(help: "Key/value heads.") var kvHeads: Int?
    @Option(help: "MLP size.") var ffn: Int?
    @Option(help: "Vocabulary size.") var vocab: Int?
    @Option(help: "Weight type: f32, bf16 or f16.") var dtype: String = "bf16"
    @Option(help: "Seed of the random weights.") var seed: UInt64 = 1
    @Option(help: "Output folder.") var out: String

    func run() throws {
        guard let type = DType(rawValue: dtype), type != .q8_0 else {
            throw CLIError("--dtype \(dtype) is not one of f32, bf16, f16")
        }
        let shape = try requestedShape()
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let writer: SynthWriter
        if let embed {
            let source = try ModelCheckpoint.load(path: embed)
            guard source.format == .safetensors else {
                throw CLIError("--embed needs a Hugging Face folder (its tokenizer files are copied); '\(embed)' is GGUF")
            }
            writer = try SynthWriter(embedding: source, into: shape, dtype: type)
            for file in ["tokenizer.json", "tokenizer_config.json", "generation_config.json", "special_tokens_map.json"] {
                let from = URL(fileURLWithPath: embed).appendingPathComponent(file)
                let to = URL(fileURLWithPath: out).appendingPathComponent(file)
                if FileManager.default.fileExists(atPath: from.path) {
                    try? FileManager.default.removeItem(at: to)
                    try FileManager.default.copyItem(at: from, to: to)
                }
            }
        } else {
            writer = SynthWriter(random: shape, dtype: type, seed: seed)
        }
        let progress = ProgressBar(label: "synth")
        try writer.write(to: out) { fraction in
            progress.update(fraction, detail: "writing \(out)")
        }
        let parameters = writer.configuration.parameterCount
        let billions = String(format: "%.3f", Double(parameters) / 1e9)
        progress.finish("wrote \(out): \(billions)B parameters, \(dtype)")
    }

    private func requestedShape() throws -> SynthShape {
        var shape: SynthShape
        if let like {
            guard let preset = SynthShape.presets[like] else {
                throw CLIError("--like \(like) is not one of \(SynthShape.presets.keys.sorted().joined(separator: ", "))")
            }
            shape = preset
        } else {
            guard let layers, let hidden, let heads, let ffn, let vocab else {
                throw CLIError("give --like PRESET, or all of --layers --hidden --heads --ffn --vocab (and --kv-heads)")
            }
            shape = SynthShape(layers: layers, hidden: hidden, heads: heads, kvHeads: kvHeads ?? heads, ffn: ffn, vocab: vocab)
        }
        if let layers { shape.layers = layers }
        if let hidden { shape.hidden = hidden }
        if let heads { shape.heads = heads }
        if let kvHeads { shape.kvHeads = kvHeads }
        if let ffn { shape.ffn = ffn }
        if let vocab { shape.vocab = vocab }
        for (name, value) in [("layers", shape.layers), ("hidden", shape.hidden), ("heads", shape.heads),
                              ("kv-heads", shape.kvHeads), ("ffn", shape.ffn), ("vocab", shape.vocab)] where value <= 0 {
            throw CLIError("--\(name) \(value) must be positive")
        }
        return shape
    }
}

/// The dimensions of a synthetic model.
struct SynthShape: Sendable {
    var layers: Int
    var hidden: Int
    var heads: Int
    var kvHeads: Int
    var ffn: Int
    var vocab: Int

    static let presets: [String: SynthShape] = [
        "llama-1b": SynthShape(layers: 22, hidden: 2048, heads: 32, kvHeads: 4, ffn: 5632, vocab: 32000),
        "llama-3b": SynthShape(layers: 26, hidden: 3200, heads: 32, kvHeads: 32, ffn: 8640, vocab: 32000),
        "llama-7b": SynthShape(layers: 32, hidden: 4096, heads: 32, kvHeads: 32, ffn: 11008, vocab: 32000),
        "llama-160m": SynthShape(layers: 12, hidden: 768, heads: 12, kvHeads: 12, ffn: 3072, vocab: 32000),
    ]
}

extension ModelConfiguration {
    /// Parameters including the embedding (and the head when untied).
    var parameterCount: Int {
        let attention = hiddenSize * (numAttentionHeads * headDim) * 2 + hiddenSize * (numKeyValueHeads * headDim) * 2
        let mlp = 3 * hiddenSize * intermediateSize
        let norms = 2 * hiddenSize
        let head = tieWordEmbeddings ? 0 : vocabSize * hiddenSize
        return numHiddenLayers * (attention + mlp + norms) + vocabSize * hiddenSize + head + hiddenSize
    }
}
