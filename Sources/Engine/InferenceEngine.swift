import Kernels
import Speculation
import Tokenization
import Transformer

#if canImport(Glibc)
import Glibc
#endif

/// The continuous-batching engine: requests join and leave between steps; each step feeds every running
/// request's next token (plus its drafts) and as much prompt as the token budget allows, in one forward pass.
///
/// Not thread-safe: one thread owns it (`EngineThread`, or a command's main thread).
public final class InferenceEngine {
    public struct Configuration: Sendable {
        /// Tokens per forward step: decode tokens and drafts first, then prompt chunks.
        public var maxTokensPerStep = 256
        /// Requests decoding at once.
        public var maxRunning = 64
        public init(maxTokensPerStep: Int = 256, maxRunning: Int = 64) {
            self.maxTokensPerStep = maxTokensPerStep
            self.maxRunning = maxRunning
        }
    }

    public let model: TransformerModel
    public let tokenizer: Tokenizer
    public let cache: PagedKVCache
    public let configuration: Configuration
    let eosTokens: Set<Int>
    var requests: [UInt64: RequestState] = [:]
    var waiting: [UInt64] = []
    var running: [UInt64] = []
    var admissions = 0
    var batch: Batch
    var plan: [PlanEntry] = []
    var speculation: SpeculationSetup?
    /// The setup's drafter, one per compute thread: drafting runs on the pool, and each copy's scratch
    /// space is its thread's.
    var drafters: [Drafter] = []
    /// The budget policy's step costs: the setup's curve, corrected by the steps run so far.
    var stepCosts: ObservedStepCost?
    /// Measured decode speed with and without drafts, per batch size (nil: not guarding).
    var speedGuard: RealizedSpeedGuard?
    /// The guard's answer for this step's `auto` requests (nil: no guard, or none asked it).
    var guardAllowedDrafts: Bool?
    /// Of this step's drafting time, what catching requests' n-gram counts up took (see `step()`).
    var catchUpSeconds = 0.0
    var drafts: [StepDraft] = []
    /// Acceptance by drafter probability, learned from this engine's verifications.
    var acceptanceCurve = AcceptanceCurve()
    /// Drafting time per request, and the batch sizes at which drafts can pay for it.
    var draftCost = DraftCost()
    let work: UnsafeMutableBufferPointer<Float>
    public internal(set) var statistics = EngineStatistics()

    /// One request's share of a step.
    struct PlanEntry {
        let request: UInt64
        /// Batch index of its first token and the number of tokens it feeds (chain part).
        let start: Int
        let count: Int
        /// Logit row of its last chain token, when it samples this step.
        let logitRow: Int?
        /// Index into `drafts` when the request verifies draft tokens this step (their logit rows follow `logitRow`).
        var draft: Int? = nil
        /// Whether it decodes (its prompt is done) rather than feeds a prompt chunk.
        var decodes = false
    }

    /// - Parameter speculation: drafter and cost model; without it every request decodes plainly.
    public init(model: TransformerModel, tokenizer: Tokenizer, cache: PagedKVCache, eosTokens: Set<Int>,
                configuration: Configuration = .init(), speculation: SpeculationSetup? = nil) {
        precondition(configuration.maxTokensPerStep <= model.maxTokensPerStep)
        self.model = model
        self.tokenizer = tokenizer
        self.cache = cache
        self.eosTokens = eosTokens
        self.configuration = configuration
        self.speculation = speculation
        drafters = speculation.map { Array(repeating: $0.drafter, count: model.pool.threadCount) } ?? []
        stepCosts = speculation.map { ObservedStepCost(curve: $0.costModel) }
        speedGuard = speculation?.guardsRealizedSpeed == true ? RealizedSpeedGuard() : nil
        batch = Batch(capacity: configuration.maxTokensPerStep)
        work = .allocate(capacity: model.vocabularySize)
    }

    deinit { work.deallocate() }

    public var hasWork: Bool { !requests.isEmpty }
    public var runningCount: Int { running.count }
    public var waitingCount: Int { waiting.count }

    // MARK: - Requests in and out

    /// Queues a request. A request that can never run here finishes at once with a message.
    public func submit(_ request: GenerationRequest) -> [EngineEvent] {
        precondition(requests[request.id] == nil, "request ids are unique")
        var request = request
        if speculation == nil { request.speculation = .off }
        let state = RequestState(request: request, tokenizer: tokenizer)
        if let problem = rejection(for: request) {
            return [finishedEvent(state, reason: .error, message: problem)]
        }
        requests[request.id] = state
        waiting.append(request.id)
        if state.generated >= request.maxTokens {
            return finish(request.id, reason: .length)
        }
        return []
    }

    /// Stops a request wherever it is; its cache is freed now.
    public func cancel(_ id: UInt64) -> [EngineEvent] {
        guard requests[id] != nil else { return [] }
        return finish(id, reason: .cancelled)
    }

    private func rejection(for request: GenerationRequest) -> String? {
        let total = request.promptIDs.count + request.producedIDs.count
        if request.promptIDs.isEmpty { return "the prompt is empty" }
        if let bad = (request.promptIDs + request.producedIDs).first(where: { $0 < 0 || $0 >= model.vocabularySize }) {
            return "token id \(bad) is outside the model's vocabulary [0, \(model.vocabularySize))"
        }
        if total >= model.maxContext {
            return "the prompt has \(total) tokens; the context holds \(model.maxContext)"
        }
        if total + 1 > cache.blockCount * cache.blockSize {
            return "the prompt needs \(total + 1) cache slots; the KV cache holds \(cache.blockCount * cache.blockSize)"
        }
        do {
            try request.parameters.validate(vocabularySize: model.vocabularySize)
        } catch {
            return "\(error)"
        }
        return nil
    }

    // MARK: - Finishing

    func finish(_ id: UInt64, reason: FinishReason, message: String? = nil) -> [EngineEvent] {
        guard let state = requests.removeValue(forKey: id) else { return [] }
        if let sequence = state.sequence {
            cache.release(sequence)
            state.sequence = nil
        }
        waiting.removeAll { $0 == id }
        running.removeAll { $0 == id }
        state.phase = .finished
        return [finishedEvent(state, reason: reason, message: message)]
    }

    private func finishedEvent(_ state: RequestState, reason: FinishReason, message: String?) -> EngineEvent {
        .finished(request: state.request.id, reason: reason,
                  usage: Usage(promptTokens: state.request.promptIDs.count, completionTokens: state.generated),
                  speculation: state.speculation, message: message)
    }
}

/// Engine-wide counters for benchmarks and metrics.
public struct EngineStatistics: Sendable, Equatable {
    public var steps = 0
    public var stepSeconds = 0.0
    public var generatedTokens = 0
    /// Time and emitted tokens of the steps that carried no prompt tokens (only decoding, with or
    /// without drafts): decode speed apart from prefill, which costs the same with or without
    /// speculation and would otherwise dilute the comparison.
    public var decodeStepSeconds = 0.0
    public var decodeTokens = 0
    public var preemptions = 0
    public var speculation = SpeculationCounts()
    public var draftSeconds = 0.0

    /// The counts added since `earlier`, a snapshot of the same engine's (a benchmark pass on an engine
    /// that served earlier passes).
    public func since(_ earlier: EngineStatistics) -> EngineStatistics {
        var delta = self
        delta.steps -= earlier.steps
        delta.stepSeconds -= earlier.stepSeconds
        delta.generatedTokens -= earlier.generatedTokens
        delta.decodeStepSeconds -= earlier.decodeStepSeconds
        delta.decodeTokens -= earlier.decodeTokens
        delta.preemptions -= earlier.preemptions
        delta.draftSeconds -= earlier.draftSeconds
        delta.speculation = speculation.since(earlier.speculation)
        return delta
    }
}

/// Monotonic seconds (for timing steps; the benchmarks time their own turns with it too).
public func monotonicSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}
