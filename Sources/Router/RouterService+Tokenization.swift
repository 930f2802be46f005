import NIOCore
public import Wire

/// A `tokenize` or `detokenize` round trip to a worker of the model (the router has no tokenizer).
struct UtilityRequest {
    let model: String
    let message: WireMessage
    let promise: EventLoopPromise<TokenizationResult>
    var worker: WorkerID
    var attempts = 1
    let timeout: Scheduled<Void>
}

extension RouterService {
    /// Asks a worker of `model` (nil: the only model served) to tokenize or detokenize.
    /// - Parameter make: builds the request frame for a request id.
    /// - Returns: the worker's answer (check its error message) and the model's limits.
    /// - Throws: ``OpenAIError`` 400 (model needed), 404, 503, 408.
    public func tokenization(model: String?, _ make: @escaping @Sendable (UInt64) -> WireMessage) async throws
        -> (result: TokenizationResult, model: String, limits: ModelLimits) {
        let id = nextRequestID()
        let started: Result<(EventLoopFuture<TokenizationResult>, String, ModelLimits), OpenAIError> = try await loop.submit {
            self.startUtility(id: id, model: model, message: make(id))
        }.get()
        let (future, name, limits) = try started.get()
        return (try await future.get(), name, limits)
    }

    private func startUtility(id: UInt64, model requested: String?, message: WireMessage)
        -> Result<(EventLoopFuture<TokenizationResult>, String, ModelLimits), OpenAIError> {
        let models = state.pool.models
        let model: String
        if let requested {
            model = requested
        } else if models.count == 1, let only = models.keys.first {
            model = only
        } else {
            return .failure(models.isEmpty
                ? .unavailable("no worker is registered yet", code: "no_worker")
                : .invalid("model", "\"model\" is required: this router serves \(models.keys.sorted().joined(separator: ", "))"))
        }
        guard let limits = models[model], let worker = state.pool.anyWorker(model: model) else {
            return .failure(state.knownModels.contains(model)
                ? .unavailable("no worker serves the model '\(model)' right now; retry shortly", code: "no_worker")
                : .modelNotFound(model, served: Array(models.keys)))
        }
        let promise = loop.makePromise(of: TokenizationResult.self)
        let seconds = Self.seconds(configuration.requestTimeout)
        let timeout = loop.scheduleTask(in: configuration.requestTimeout) { () -> Void in
            self.utility.removeValue(forKey: id)?.promise.fail(OpenAIError.timedOut(seconds: seconds))
        }
        utility[id] = UtilityRequest(model: model, message: message, promise: promise, worker: worker, timeout: timeout)
        connections[worker]?.send(message)
        return .success((promise.futureResult, model, limits))
    }

    /// A worker answered a tokenization request (or failed the request id with an `error` frame).
    func answered(_ result: TokenizationResult, by worker: WorkerID) {
        guard let request = utility[result.requestID], request.worker == worker else { return }
        utility[result.requestID] = nil
        request.timeout.cancel()
        request.promise.succeed(result)
    }

    /// A worker is gone: its pending tokenization requests go to another worker of the model.
    func workerGone(_ worker: WorkerID) {
        for (id, var request) in utility where request.worker == worker {
            guard request.attempts < configuration.maxAttempts, let other = state.pool.anyWorker(model: request.model) else {
                utility[id] = nil
                request.timeout.cancel()
                request.promise.fail(OpenAIError.unavailable("the worker answering this request went away and no other serves '\(request.model)'", code: "worker_lost"))
                continue
            }
            request.worker = other
            request.attempts += 1
            utility[id] = request
            connections[other]?.send(request.message)
        }
    }
}
