import Kernels
import ModelFormat

/// A Llama-family decoder (llama, mistral, qwen2) that runs one batched step over many sequences.
///
/// Not thread-safe: one engine thread owns it, its buffers and its cache. The checkpoint's mapping
/// must outlive it (it keeps the checkpoint).
public final class TransformerModel {
    public let configuration: ModelConfiguration
    public let maxTokensPerStep: Int
    public let maxContext: Int
    /// How matrix products treat activations (`.f32`: the reference numerics).
    public let activationPrecision: ActivationPrecision
    let checkpoint: ModelCheckpoint
    let weights: TransformerWeights
    let rope: RotaryEmbedding
    public let pool: ComputePool
    let scratch: MatMulScratch
    let buffers: RunBuffers

    public enum StepResult: Equatable, Sendable {
        /// Logits of the tokens that asked for them, in batch order: `logits(row:)`.
        case ok(logitRows: Int)
        /// The cache cannot hold the step's new tokens; nothing was computed or changed.
        case cacheFull
    }

    /// - Parameters:
    ///   - maxTokensPerStep: the largest batch a step takes (buffers are sized for it).
    ///   - maxContext: the longest sequence attended over (at most the model's context length).
    ///   - activationPrecision: `.bf16` trades activation precision for twice the multiply-adds per
    ///     instruction on bf16 weights (see `ActivationPrecision`).
    public init(checkpoint: ModelCheckpoint, pool: ComputePool, maxTokensPerStep: Int = 512, maxContext: Int? = nil,
                activationPrecision: ActivationPrecision = .f32) throws {
        self.activationPrecision = activationPrecision
        let config = checkpoint.configuration
        self.configuration = config
        self.checkpoint = checkpoint
        self.pool = pool
        self.maxTokensPerStep = maxTokensPerStep
        self.maxContext = min(maxContext ?? config.maxPositionEmbeddings, config.maxPositionEmbeddings)
        weights = try TransformerWeights(checkpoint: checkpoint)
        rope = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta,
                               llama3Scaling: config.ropeScaling.map {
                                   (factor: $0.factor, lowFreqFactor: $0.lowFreqFactor,
                                    highFreqFactor: $0.highFreqFactor,
                                    originalMaxPositions: $0.originalMaxPositionEmbeddings)
                               }, tablePositions: self.maxContext)
        let queryDim = config.numAttentionHeads * config.headDim
        let kvDim = config.numKeyValueHeads * config.headDim
        scratch = MatMulScratch(maxTokens: maxTokensPerStep,
                                maxColumns: max(config.hiddenSize, config.intermediateSize, queryDim),
                                threads: pool.threadCount)
        buffers = RunBuffers(maxTokens: maxTokensPerStep, maxContext: self.maxContext, threads: pool.threadCount,
                             dim: config.hiddenSize, queryDim: queryDim, kvDim: kvDim,
                             ffn: config.intermediateSize, vocab: weights.lmHead.rows,
                             queryGroup: config.numAttentionHeads / config.numKeyValueHeads)
    }

    /// Logits have one entry per row of the output head (the model's vocabulary, padding included).
    public var vocabularySize: Int { weights.lmHead.rows }
    /// Bytes of weights a step streams, and the multiply-add parameters a token meets.
    public var streamedWeightBytes: Int { weights.streamedBytes }
    public var matrixParameterCount: Int { weights.matrixParameters }

    /// A cache sized for this model.
    public func makeCache(budgetMB: Int, blockSize: Int = 16) -> PagedKVCache {
        PagedKVCache(layers: configuration.numHiddenLayers, kvHeads: configuration.numKeyValueHeads,
                     headDim: configuration.headDim, blockSize: blockSize, budgetMB: budgetMB)
    }

    /// Row `row` of the last step's logits. [vocab]; valid until the next step.
    public func logits(row: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: buffers.logits + row * vocabularySize, count: vocabularySize)
    }

    // MARK: - The step

    /// Runs every token of `batch` through the model, writing their keys and values into `cache` at
    /// their slots (after each sequence's committed tokens). The caller then commits, accepts a path,
    /// or drops them; committed lengths are not changed here.
    public func forward(_ batch: Batch, cache: PagedKVCache) -> StepResult {
        precondition(batch.count <= maxTokensPerStep, "the scheduler keeps steps within maxTokensPerStep")
        guard !batch.isEmpty else { return .ok(logitRows: 0) }
        guard reserveSlots(batch, cache: cache) else { return .cacheFull }
        let config = configuration
        let n = batch.count
        let dim = config.hiddenSize
        let x = buffers.x

        // x = embedding rows of the tokens [n, dim]
        batch.tokens.withUnsafeBufferPointer { tokens in
            for i in 0..<n {
                weights.embedding.row(Int(tokens[i]), into: x + i * dim)
            }
        }
        markDenseTokens(batch, cache: cache)
        for layer in 0..<config.numHiddenLayers {
            attentionBlock(layer: layer, batch: batch, cache: cache)
            mlpBlock(layer: layer, tokens: n)
        }
        return .ok(logitRows: outputHead(batch))
    }

    /// Pre-norm attention sub-layer: x += o_proj(attention(rope(q), rope(k), v)).
    private func attentionBlock(layer index: Int, batch: Batch, cache: PagedKVCache) {
        let config = configuration
        let layer = weights.layers[index]
        let n = batch.count
        let dim = config.hiddenSize
        let b = buffers

        for i in 0..<n {
            Ops.rmsNorm(b.x + i * dim, weight: layer.attentionNorm, eps: config.rmsNormEps, count: dim,
                        into: b.xb + i * dim)
        }
        multiply(layer.query, b.xb, tokens: n, into: b.q)
        multiply(layer.key, b.xb, tokens: n, into: b.k)
        multiply(layer.value, b.xb, tokens: n, into: b.v)
        addBias(layer.queryBias, to: b.q, rows: n)
        addBias(layer.keyBias, to: b.k, rows: n)
        addBias(layer.valueBias, to: b.v, rows: n)

        let queryDim = config.numAttentionHeads * config.headDim
        let kvDim = config.numKeyValueHeads * config.headDim
        batch.positions.withUnsafeBufferPointer { positions in
            for i in 0..<n {
                rope.apply(b.q + i * queryDim, heads: config.numAttentionHeads, position: Int(positions[i]))
                rope.apply(b.k + i * kvDim, heads: config.numKeyValueHeads, position: Int(positions[i]))
            }
        }
        storeKeysAndValues(layer: index, batch: batch, cache: cache)
        attend(layer: index, batch: batch, cache: cache)

        multiply(layer.output, b.attention, tokens: n, into: b.delta)
        Ops.add(b.x, b.delta, into: b.x, count: n * dim)
    }

    /// Pre-norm gated MLP sub-layer: x += down(silu(gate(xb)) * up(xb)).
    private func mlpBlock(layer index: Int, tokens n: Int) {
        let config = configuration
        let layer = weights.layers[index]
        let dim = config.hiddenSize
        let b = buffers

        for i in 0..<n {
            Ops.rmsNorm(b.x + i * dim, weight: layer.mlpNorm, eps: config.rmsNormEps, count: dim,
                        into: b.xb + i * dim)
        }
        multiply(layer.gate, b.xb, tokens: n, into: b.hidden)
        multiply(layer.up, b.xb, tokens: n, into: b.up)
        Ops.siluGate(gate: b.hidden, up: b.up, count: n * config.intermediateSize)
        multiply(layer.down, b.hidden, tokens: n, into: b.delta)
        Ops.add(b.x, b.delta, into: b.x, count: n * dim)
    }

    /// Final norm and the output head, for the tokens that want logits only. Returns their count.
    private func outputHead(_ batch: Batch) -> Int {
        let dim = configuration.hiddenSize
        let b = buffers
        var rows = 0
        batch.wantsLogits.withUnsafeBufferPointer { wants in
            for i in 0..<batch.count where wants[i] {
                Ops.rmsNorm(b.x + i * dim, weight: weights.finalNorm, eps: configuration.rmsNormEps, count: dim,
                            into: b.headInput + rows * dim)
                rows += 1
            }
        }
        if rows > 0 {
            multiply(weights.lmHead, b.headInput, tokens: rows, into: b.logits)
        }
        return rows
    }

    /// y[n, w.rows] = x[n, w.columns] · Wᵀ with this model's pool, scratch and activation precision.
    private func multiply(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens n: Int, into y: UnsafeMutablePointer<Float>) {
        MatMul.multiply(w, x: x, tokens: n, into: y, pool: pool, scratch: scratch, precision: activationPrecision)
    }

    private func addBias(_ bias: [Float]?, to rows: UnsafeMutablePointer<Float>, rows count: Int) {
        guard let bias else { return }
        bias.withUnsafeBufferPointer { bias in
            for i in 0..<count {
                Ops.add(rows + i * bias.count, bias.baseAddress!, into: rows + i * bias.count, count: bias.count)
            }
        }
    }

    /// Every sequence gets the blocks for its highest slot in this step, or none does. A sequence's
    /// tokens are contiguous in a batch, so each run's highest slot is found in one pass.
    private func reserveSlots(_ batch: Batch, cache: PagedKVCache) -> Bool {
        func forEachSequence(_ body: (_ sequence: Int, _ slots: Int) -> Void) {
            var start = 0
            while start < batch.count {
                var end = start
                var highest = 0
                while end < batch.count && batch.sequences[end] == batch.sequences[start] {
                    highest = max(highest, Int(batch.cacheSlots[end]) + 1)
                    end += 1
                }
                body(Int(batch.sequences[start]), highest)
                start = end
            }
        }
        var needed = 0
        forEachSequence { needed += cache.blocksNeeded($0, slots: $1) }
        guard needed <= cache.freeBlockCount else { return false }
        forEachSequence { sequence, slots in
            let reserved = cache.reserve(sequence, slots: slots)
            precondition(reserved, "blocks were counted above")
        }
        return true
    }
}
