import Engine
import Foundation
import Kernels
import ModelFormat
import Tokenization
import Speculation
import Transformer

/// The bundled model behind an engine, and helpers that run requests to completion.
final class EngineHarness {
    static let modelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/specula/Resources/models/pycode-6m").path
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    let checkpoint: ModelCheckpoint
    let tokenizer: Tokenizer
    let model: TransformerModel
    let cache: PagedKVCache
    let engine: InferenceEngine

    init(kvCacheMB: Int = 64, configuration: InferenceEngine.Configuration = .init(), speculate: Bool = false,
         threads: Int = 2) throws {
        checkpoint = try ModelCheckpoint.load(path: Self.modelPath)
        tokenizer = try Tokenizer.load(path: Self.modelPath)
        model = try TransformerModel(checkpoint: checkpoint, pool: ComputePool(threads: threads), maxTokensPerStep: 256)
        cache = model.makeCache(budgetMB: kvCacheMB)
        var setup: SpeculationSetup?
        if speculate {
            setup = SpeculationSetup(drafter: Drafter(datastore: try Self.datastore(tokenizer)), costModel: Self.flatCosts,
                                     guardsRealizedSpeed: false)
        }
        engine = InferenceEngine(model: model, tokenizer: tokenizer, cache: cache, eosTokens: [0],
                                 configuration: configuration, speculation: setup)
    }

    /// A cost curve on which drafts look nearly free, so `auto` drafts a lot (the tests check correctness,
    /// not the policy's economics).
    static let flatCosts = StepCostModel(tokens: [1, 256], seconds: [0.001, 0.0011], secondsPerTokenContext: 0)

    /// A small datastore from the long benchmark prompts (the real corpus takes too long to index in a debug build).
    static func datastore(_ tokenizer: Tokenizer) throws -> Datastore {
        let text = try String(contentsOf: fixtures.appendingPathComponent("bench/code-long.jsonl"), encoding: .utf8)
        let documents = try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return tokenizer.encode(object?["prompt"] as? String ?? "", addSpecialTokens: false).map { Int32($0) }
        }
        return try Datastore.build(documents: documents, vocabularySize: tokenizer.vocabularySize, separator: 0)
    }

    struct Outcome: Equatable {
        var ids: [Int] = []
        var text = ""
        /// Parallel to `ids` for requests with logprobs.
        var logprobs: [TokenLogprob] = []
        var reason: FinishReason?
        var usage: Usage?
        var speculation = SpeculationCounts()
        var message: String?
    }

    /// Submits all requests at once and steps until every one has finished.
    func run(_ requests: [GenerationRequest], cancelAfterSteps: [UInt64: Int] = [:]) -> [UInt64: Outcome] {
        var outcomes: [UInt64: Outcome] = [:]
        func absorb(_ events: [EngineEvent]) {
            for event in events {
                switch event {
                case let .tokens(id, ids, text, logprobs):
                    outcomes[id, default: Outcome()].ids += ids
                    outcomes[id, default: Outcome()].text += text
                    outcomes[id, default: Outcome()].logprobs += logprobs
                case let .finished(id, reason, usage, speculation, message):
                    outcomes[id, default: Outcome()].reason = reason
                    outcomes[id, default: Outcome()].usage = usage
                    outcomes[id, default: Outcome()].speculation = speculation
                    outcomes[id, default: Outcome()].message = message
                }
            }
        }
        for request in requests { absorb(engine.submit(request)) }
        var steps = 0
        while engine.hasWork {
            absorb(engine.step())
            steps += 1
            for (id, after) in cancelAfterSteps where after == steps { absorb(engine.cancel(id)) }
            precondition(steps < 100_000, "the engine must make progress")
        }
        return outcomes
    }

    /// Benchmark prompts, tokenized as generation starts them.
    func benchPrompts(_ file: String = "bench/code-short.jsonl", limit: Int) throws -> [[Int]] {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent(file), encoding: .utf8)
        return try text.split(separator: "\n").prefix(limit).map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return tokenizer.promptIDs(object?["prompt"] as? String ?? "")
        }
    }
}
