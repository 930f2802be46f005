import Engine
import Foundation
import Kernels
import ModelFormat
import Tokenization
import Transformer

/// A model ready to run: checkpoint, tokenizer, the transformer and its cache.
final class LoadedModel {
    let path: String
    let checkpoint: ModelCheckpoint
    let tokenizer: Tokenizer
    let model: TransformerModel
    let cache: PagedKVCache
    let pool: ComputePool

    init(path: String, threads: Int? = nil, maxTokensPerStep: Int = 256, kvCacheMB: Int = 256,
         activations: ActivationPrecision = .f32) throws {
        self.path = path
        // The cache is mapped up front (its pages fill as it is used); a budget past the machine's
        // memory cannot be mapped at all.
        let memoryMB = Int(ProcessInfo.processInfo.physicalMemory / 1_048_576)
        guard kvCacheMB >= 1, kvCacheMB <= memoryMB else {
            throw CLIError("a KV cache of \(kvCacheMB) MB does not fit this machine's \(memoryMB) MB of memory: lower --kv-cache-mb")
        }
        checkpoint = try ModelCheckpoint.load(path: path)
        tokenizer = checkpoint.format == .gguf
            ? try Tokenizer(ggufMetadata: checkpoint.ggufMetadata, source: path)
            : try Tokenizer.load(path: path)
        pool = ComputePool(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        model = try TransformerModel(checkpoint: checkpoint, pool: pool, maxTokensPerStep: maxTokensPerStep,
                                     activationPrecision: activations)
        cache = model.makeCache(budgetMB: kvCacheMB)
    }

    /// A continuous-batching engine over this model and its cache (or `cache`, for engines that live
    /// side by side).
    func makeEngine(configuration: InferenceEngine.Configuration = .init(), speculation: SpeculationSetup? = nil,
                    cache: PagedKVCache? = nil) -> InferenceEngine {
        InferenceEngine(model: model, tokenizer: tokenizer, cache: cache ?? self.cache,
                        eosTokens: tokenizer.eosTokenIDs.union(checkpoint.configuration.eosTokenIDs),
                        configuration: configuration, speculation: speculation)
    }

    /// The file the tokenizer came from (tokenizer.json of a folder, or the GGUF itself).
    var tokenizerFilePath: String {
        checkpoint.format == .gguf ? path : URL(fileURLWithPath: path).appendingPathComponent("tokenizer.json").path
    }

    /// The served model's id: the folder's or file's base name without extension (INTERFACES.md).
    var name: String {
        URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }

    /// Runs `ids` through a new or existing sequence in chunks, committing them; `onLogits` sees each
    /// position's logits (all positions, or only the last). Throws when the cache or context is too small.
    func prefill(_ ids: [Int], sequence: Int, allLogits: Bool,
                 onLogits: (_ position: Int, _ logits: UnsafeBufferPointer<Float>) -> Void) throws {
        var batch = Batch(capacity: model.maxTokensPerStep)
        var start = 0
        let base = cache.length(of: sequence)
        guard base + ids.count <= model.maxContext else {
            throw CLIError("the prompt has \(base + ids.count) tokens; the context holds \(model.maxContext)")
        }
        while start < ids.count {
            let end = min(ids.count, start + model.maxTokensPerStep)
            batch.removeAll()
            batch.appendChain(ids[start..<end], sequence: sequence, startPosition: base + start,
                              logits: allLogits ? .all : (end == ids.count ? .last : .none))
            guard case .ok(let rows) = model.forward(batch, cache: cache) else {
                throw CLIError("the KV cache is full (\(cache.blockCount) blocks of \(cache.blockSize)); raise --kv-cache-mb")
            }
            cache.commit(sequence, count: end - start)
            for row in 0..<rows {
                onLogits(allLogits ? start + row : ids.count - 1, model.logits(row: row))
            }
            start = end
        }
    }
}
