import Foundation
import Kernels
import ModelFormat
import Transformer

/// Paths of the fixtures copied into the repository.
enum FixturePaths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let bundledModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/specula/Resources/models/pycode-6m").path

    static func fixture(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// One prompt with reference outputs from transformers (float32).
struct ReferenceCase: CustomStringConvertible, Sendable {
    let model: String         // path of the checkpoint to load
    let name: String
    let ids: [Int]
    let lastLogits: [Float]
    let top5IDs: [[Int]]      // [positions][5], may be empty
    let top5Values: [[Float]]
    let greedy: [Int]
    /// Absolute tolerance on the last position's logits.
    let tolerance: Float

    var description: String { "\(URL(fileURLWithPath: model).lastPathComponent)/\(name)" }

    /// Every reference: pycode-6m (safetensors and GGUF) and the three fixture checkpoints (safetensors, GGUF f32, q8_0).
    static func all() throws -> [ReferenceCase] {
        var cases: [ReferenceCase] = []
        for prompt in ["prompt-short", "prompt-unicode", "prompt-heldout-300"] {
            let file = FixturePaths.fixture("pycode-6m/reference/\(prompt).json")
            for (model, tolerance) in [(FixturePaths.bundledModel, Float(1e-3)),
                                       (FixturePaths.fixture("pycode-6m/pycode-6m-f32.gguf"), 1e-3)] {
                cases.append(try pycode(file: file, model: model, tolerance: tolerance))
            }
        }
        let fixtures: [(String, String)] = [
            ("reference/m1_llama_gqa_tied.json", "models/m1_llama_gqa_tied"),
            ("reference/m2_qwen2_bias.json", "models/m2_qwen2_bias"),
            ("reference/m3_mistral_spm.json", "models/m3_mistral_spm"),
            ("reference/m1_llama_gqa_tied-f32.gguf.json", "gguf/m1_llama_gqa_tied-f32.gguf"),
            ("reference/m1_llama_gqa_tied-q8_0.gguf.json", "gguf/m1_llama_gqa_tied-q8_0.gguf"),
            ("reference/m2_qwen2_bias-f32.gguf.json", "gguf/m2_qwen2_bias-f32.gguf"),
            ("reference/m2_qwen2_bias-q8_0.gguf.json", "gguf/m2_qwen2_bias-q8_0.gguf"),
        ]
        for (reference, model) in fixtures {
            cases += try fixture(file: FixturePaths.fixture(reference), model: FixturePaths.fixture(model))
        }
        return cases
    }

    private static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    private static func pycode(file: String, model: String, tolerance: Float) throws -> ReferenceCase {
        let reference = try json(file)
        let top5 = reference["top5"] as? [[String: Any]] ?? []
        let greedy = reference["greedy"] as? [String: Any] ?? [:]
        return ReferenceCase(
            model: model, name: reference["name"] as? String ?? file,
            ids: reference["input_ids"] as? [Int] ?? [],
            lastLogits: floats(reference["last_logits"]),
            top5IDs: top5.map { $0["ids"] as? [Int] ?? [] },
            top5Values: top5.map { floats($0["logits"]) },
            greedy: greedy["ids"] as? [Int] ?? [], tolerance: tolerance)
    }

    private static func fixture(file: String, model: String) throws -> [ReferenceCase] {
        let reference = try json(file)
        var cases = (reference["prompts"] as? [[String: Any]] ?? []).map { prompt in
            ReferenceCase(
                model: model, name: prompt["name"] as? String ?? "?", ids: prompt["ids"] as? [Int] ?? [],
                lastLogits: floats(prompt["last_logits"]),
                top5IDs: prompt["top5_ids"] as? [[Int]] ?? [],
                top5Values: (prompt["top5_values"] as? [Any] ?? []).map { floats($0) },
                greedy: prompt["greedy_ids"] as? [Int] ?? [], tolerance: 1e-3)
        }
        if let chat = reference["chat"] as? [String: Any] {
            cases.append(ReferenceCase(
                model: model, name: "chat", ids: chat["ids"] as? [Int] ?? [],
                lastLogits: floats(chat["last_logits"]), top5IDs: [], top5Values: [],
                greedy: chat["greedy_ids"] as? [Int] ?? [], tolerance: 1e-3))
        }
        return cases
    }

    private static func floats(_ value: Any?) -> [Float] {
        (value as? [Any] ?? []).map { Float(($0 as? NSNumber)?.doubleValue ?? .nan) }
    }
}

/// A model plus cache, with helpers that run whole prompts.
final class ModelHarness {
    let checkpoint: ModelCheckpoint
    let model: TransformerModel
    let cache: PagedKVCache

    init(path: String, threads: Int = 2, maxTokensPerStep: Int = 128, kvCacheMB: Int = 64) throws {
        checkpoint = try ModelCheckpoint.load(path: path)
        model = try TransformerModel(checkpoint: checkpoint, pool: ComputePool(threads: threads),
                                     maxTokensPerStep: maxTokensPerStep)
        cache = model.makeCache(budgetMB: kvCacheMB)
    }

    /// Logits at every position of `ids`, run as one new sequence in chunks of `chunk` tokens. [positions][vocab]
    func logitsAtEveryPosition(_ ids: [Int], chunk: Int? = nil, release: Bool = true) -> (sequence: Int, logits: [[Float]]) {
        let sequence = cache.createSequence()
        var all: [[Float]] = []
        var start = 0
        let step = min(chunk ?? model.maxTokensPerStep, model.maxTokensPerStep)
        while start < ids.count {
            let end = min(ids.count, start + step)
            var batch = Batch()
            batch.appendChain(ids[start..<end], sequence: sequence, startPosition: start, logits: .all)
            let result = model.forward(batch, cache: cache)
            precondition(result == .ok(logitRows: end - start), "unexpected \(result)")
            cache.commit(sequence, count: end - start)
            for row in 0..<(end - start) { all.append(Array(model.logits(row: row))) }
            start = end
        }
        if release { cache.release(sequence) }
        return (sequence, all)
    }

    /// Greedy continuation of `ids` for `steps` tokens (EOS not special).
    func greedy(_ ids: [Int], steps: Int) -> [Int] {
        let (sequence, logits) = logitsAtEveryPosition(ids, release: false)
        defer { cache.release(sequence) }
        var next = argmax(logits.last!)
        var output: [Int] = []
        while output.count < steps {
            output.append(next)
            var batch = Batch()
            batch.appendChain([next], sequence: sequence, startPosition: cache.length(of: sequence))
            precondition(model.forward(batch, cache: cache) == .ok(logitRows: 1))
            cache.commit(sequence, count: 1)
            next = argmax(Array(model.logits(row: 0)))
        }
        return output
    }
}

func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}
