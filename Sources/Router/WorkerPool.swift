import Wire

/// A worker connection's id in this router process (never reused).
public struct WorkerID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: Int
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public static func < (lhs: WorkerID, rhs: WorkerID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "w\(rawValue)" }
}

/// What a model offers clients, from the workers that serve it.
public struct ModelLimits: Sendable, Equatable {
    public var contextLength: Int
    /// The smallest of the workers' limits, so a request fits whichever worker runs (or resumes) it.
    public var maxPromptTokens: Int
    public var maxOutputTokens: Int
    /// Workers serving it that take new work.
    public var workers: Int
}

/// The registered workers: their models, limits, credits, drain state and the requests each runs.
/// A pure value, owned by the router state.
struct WorkerPool: Sendable {
    struct Worker: Sendable, Equatable {
        let id: WorkerID
        let name: String
        let registration: Register
        /// Assignments the worker will still take (granted by `credits`, used by `assign`).
        var credits = 0
        /// The worker sent `drain`: nothing new, its credits are void.
        var draining = false
        /// Router request ids running there.
        var running: Set<UInt64> = []

        var model: String { registration.modelID }
    }

    private(set) var workers: [WorkerID: Worker] = [:]

    subscript(id: WorkerID) -> Worker? { workers[id] }

    /// Why a worker's registration is refused, or nil to accept it: the limits must be self-consistent,
    /// and every worker of one model must agree on its context length (clients see one model).
    func refusal(for register: Register, name: String) -> String? {
        let model = register.modelID
        if model.isEmpty || model.utf8.count > 256 || model.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) {
            return "worker '\(name)': model id '\(model)' must be 1-256 bytes without spaces or control characters"
        }
        if register.contextLength == 0 || register.maxBatchSequences == 0 || register.maxOutputTokens == 0 || register.maxPromptTokens == 0 {
            return "worker '\(name)': context_length \(register.contextLength), max_batch_sequences \(register.maxBatchSequences), max_prompt_tokens \(register.maxPromptTokens) and max_output_tokens \(register.maxOutputTokens) must all be > 0"
        }
        if register.maxPromptTokens >= register.contextLength {
            return "worker '\(name)': max_prompt_tokens \(register.maxPromptTokens) must be below context_length \(register.contextLength) (room to generate)"
        }
        if let other = workers.values.first(where: { $0.model == model && $0.registration.contextLength != register.contextLength }) {
            return "worker '\(name)' serves '\(model)' with context_length \(register.contextLength), but worker '\(other.name)' serves it with \(other.registration.contextLength); every worker of a model must use the same context length"
        }
        return nil
    }

    mutating func add(_ id: WorkerID, name: String, register: Register) {
        precondition(workers[id] == nil, "worker \(id) registered twice")
        workers[id] = Worker(id: id, name: name, registration: register)
    }

    mutating func remove(_ id: WorkerID) -> Worker? {
        workers.removeValue(forKey: id)
    }

    /// Adds credits (capped at `UInt32.max` outstanding); returns the worker's model, nil when it
    /// takes no work (unknown or draining).
    mutating func addCredits(_ id: WorkerID, _ count: UInt32) -> String? {
        guard var worker = workers[id], !worker.draining else { return nil }
        worker.credits = min(Int(UInt32.max), worker.credits + Int(count))
        workers[id] = worker
        return worker.model
    }

    mutating func drain(_ id: WorkerID) {
        workers[id]?.draining = true
        workers[id]?.credits = 0
    }

    /// Uses one credit of the worker of `model` holding the most (the one with the most free room;
    /// ties go to the oldest connection), or nil when none has credit.
    mutating func takeCredit(model: String) -> WorkerID? {
        var best: Worker?
        for worker in workers.values where worker.model == model && worker.credits > 0 && !worker.draining {
            if let current = best, current.credits > worker.credits || (current.credits == worker.credits && current.id < worker.id) {
                continue
            }
            best = worker
        }
        guard let chosen = best?.id else { return nil }
        workers[chosen]?.credits -= 1
        return chosen
    }

    /// Whether a worker of `model` holds a credit.
    func hasCredit(model: String) -> Bool {
        workers.values.contains { $0.model == model && $0.credits > 0 && !$0.draining }
    }

    mutating func started(_ requestID: UInt64, on id: WorkerID) {
        workers[id]?.running.insert(requestID)
    }

    mutating func ended(_ requestID: UInt64, on id: WorkerID) {
        workers[id]?.running.remove(requestID)
    }

    /// A worker of `model` for a request that needs no credit (tokenization): the one with most
    /// credits, draining ones last.
    func anyWorker(model: String) -> WorkerID? {
        workers.values.filter { $0.model == model }
            .min { ($0.draining ? 1 : 0, -$0.credits, $0.id.rawValue) < ($1.draining ? 1 : 0, -$1.credits, $1.id.rawValue) }?.id
    }

    /// Every model with at least one worker, and its limits over the workers that take new work
    /// (all of them while every one drains).
    var models: [String: ModelLimits] {
        var result: [String: ModelLimits] = [:]
        for (model, group) in Dictionary(grouping: workers.values, by: \.model) {
            let serving = group.filter { !$0.draining }
            let counted = serving.isEmpty ? group : serving
            result[model] = ModelLimits(
                contextLength: Int(counted[0].registration.contextLength),
                maxPromptTokens: counted.map { Int($0.registration.maxPromptTokens) }.min()!,
                maxOutputTokens: counted.map { Int($0.registration.maxOutputTokens) }.min()!,
                workers: serving.count)
        }
        return result
    }
}
