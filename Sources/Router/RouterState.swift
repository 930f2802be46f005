import NIOCore
import Wire

/// The router's decisions as a value: the shared queue, the worker pool and the running requests.
/// Every event (a request arrives, a client leaves, a worker registers, grants credits, streams,
/// finishes, drains or dies, a deadline passes) returns the actions to perform; the service performs
/// them. Nothing here does I/O or reads a clock, so tests drive it directly.
struct RouterState: Sendable {
    struct Running: Sendable, Equatable {
        var request: RouterRequest
        let worker: WorkerID
        /// Token ids delivered to the client so far, from every worker it ran on.
        var produced: [UInt32]
        /// A `cancel` went out (client gone or deadline passed); later tokens are dropped.
        var cancelled = false
        /// The cancel was the deadline's: the client hears `finish_reason: "timeout"`.
        var timedOut = false
    }

    var queue: RequestQueue
    var pool = WorkerPool()
    var running: [UInt64: Running] = [:]
    /// Models some worker registered since the router started: asking for one of them while no
    /// worker serves it is 503, not 404.
    var knownModels: Set<String> = []
    /// A request is re-queued after losing its worker at most this many times in all.
    let maxAttempts: Int
    /// The router is shutting down: new requests get 503; queued and running ones still complete.
    private(set) var draining = false

    init(maxQueue: Int, maxAttempts: Int = 3) {
        queue = RequestQueue(capacity: maxQueue)
        self.maxAttempts = maxAttempts
    }

    /// Requests that have not finished: queued or running.
    var inFlight: Int { queue.count + running.count }

    // MARK: - Requests

    /// Admits a new request, or says why not (404 unknown model, 503 no worker or draining, 429 queue
    /// full, 400 `max_tokens` above the model's limit).
    mutating func submit(_ job: GenerationJob, id: UInt64, now: NIODeadline) -> Result<[RouterAction], OpenAIError> {
        if draining {
            return .failure(.unavailable("the router is shutting down and takes no new requests", code: "draining"))
        }
        guard let limits = pool.models[job.model], limits.workers > 0 else {
            if knownModels.contains(job.model) {
                return .failure(.unavailable("no worker serves the model '\(job.model)' right now; retry shortly", code: "no_worker"))
            }
            return .failure(.modelNotFound(job.model, served: Array(pool.models.keys)))
        }
        if let asked = job.maxTokens, asked > limits.maxOutputTokens {
            return .failure(.invalid("max_tokens", "max_tokens is \(asked); the model '\(job.model)' generates at most \(limits.maxOutputTokens) tokens per request"))
        }
        var assignment = job.assignment
        assignment.requestID = id
        assignment.maxTokens = job.maxTokens ?? UInt32(limits.maxOutputTokens)
        assignment.producedTokenIDs = []
        let request = RouterRequest(id: id, model: job.model, assignment: assignment, arrival: now, deadline: now + job.timeout)
        // A request a worker takes at once never waits, so the bound does not apply to it.
        let takenAtOnce = queue.count(for: job.model) == 0 && pool.hasCredit(model: job.model)
        guard queue.append(request, bypassBound: takenAtOnce) else {
            return .failure(.queueFull(model: job.model, capacity: queue.capacity))
        }
        return .success(dispatch(job.model, now: now))
    }

    /// The client went away: a queued request leaves the queue, a running one is cancelled on its worker.
    mutating func clientGone(_ id: UInt64) -> [RouterAction] {
        if var entry = running[id] {
            guard !entry.cancelled else { return [] }
            entry.cancelled = true
            running[id] = entry
            return [.send(entry.worker, .cancel(Cancel(requestID: id)))]
        }
        for model in queue.waitingModels {
            if queue.remove(id: id, model: model) != nil { break }
        }
        return []
    }

    /// Fails queued requests whose deadline passed, and cancels running ones (their worker's `finish`
    /// then reports `timeout`).
    mutating func expire(now: NIODeadline) -> [RouterAction] {
        var actions = queue.removeExpired(at: now).map { request in
            RouterAction.deliver(request.id, .failed(.timedOut(seconds: Self.seconds(request.deadline - request.arrival))))
        }
        for (id, var entry) in running where !entry.cancelled && entry.request.deadline <= now {
            entry.cancelled = true
            entry.timedOut = true
            running[id] = entry
            actions.append(.send(entry.worker, .cancel(Cancel(requestID: id))))
        }
        return actions
    }

    /// Stops admitting new requests (SIGTERM); true once nothing is queued or running.
    mutating func beginDrain() -> Bool {
        draining = true
        return inFlight == 0
    }

    // MARK: - Dispatch

    /// Assigns queued requests of `model` to its workers while they hold credits.
    mutating func dispatch(_ model: String, now: NIODeadline) -> [RouterAction] {
        var actions: [RouterAction] = []
        while queue.count(for: model) > 0, let worker = pool.takeCredit(model: model) {
            guard var request = queue.popFirst(model: model) else { break }
            if request.deadline <= now {
                // Expired while waiting; give the credit back and fail it.
                _ = pool.addCredits(worker, 1)
                actions.append(.deliver(request.id, .failed(.timedOut(seconds: Self.seconds(request.deadline - request.arrival)))))
                continue
            }
            request.attempts += 1
            var assignment = request.assignment
            assignment.timeoutMilliseconds = request.remainingMilliseconds(at: now)
            if pool[worker]?.registration.supportsSpeculation == false { assignment.speculation = .off }
            running[request.id] = Running(request: request, worker: worker, produced: request.assignment.producedTokenIDs)
            pool.started(request.id, on: worker)
            actions.append(.send(worker, .assign(assignment)))
        }
        return actions
    }

    static func seconds(_ amount: TimeAmount) -> Double { Double(amount.nanoseconds) / 1e9 }
}
