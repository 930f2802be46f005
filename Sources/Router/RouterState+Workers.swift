import NIOCore
import Wire

// Events from worker connections.
extension RouterState {
    /// A worker sent `register`: accept it (then it grants credits) or refuse it with a reason.
    mutating func register(_ worker: WorkerID, name: String, _ register: Register) -> [RouterAction] {
        if let reason = pool.refusal(for: register, name: name) {
            return [.send(worker, .registration(Registration(accepted: false, reason: reason))),
                    .close(worker, WireError(.registrationRefused, reason))]
        }
        pool.add(worker, name: name, register: register)
        knownModels.insert(register.modelID)
        return [.send(worker, .registration(Registration(accepted: true)))]
    }

    mutating func credits(_ worker: WorkerID, _ count: UInt32, now: NIODeadline) -> [RouterAction] {
        guard let model = pool.addCredits(worker, count) else { return [] }
        return dispatch(model, now: now)
    }

    /// The worker takes nothing new; what it runs completes there.
    mutating func drain(_ worker: WorkerID) {
        pool.drain(worker)
    }

    mutating func tokens(_ worker: WorkerID, _ event: TokenEvent) -> [RouterAction] {
        guard running[event.requestID].map({ $0.worker == worker && !$0.cancelled }) == true else { return [] }
        running[event.requestID]?.produced += event.tokenIDs  // in place: no copy of the ids per event
        return [.deliver(event.requestID, .tokens(text: event.text, count: event.tokenIDs.count, logprobs: event.logprobs ?? []))]
    }

    /// The worker's last word on a request (a `finish`, or an `error` frame naming it).
    mutating func finish(_ worker: WorkerID, _ finish: Finish, now: NIODeadline) -> [RouterAction] {
        let id = finish.requestID
        guard let entry = running[id], entry.worker == worker else { return [] }
        running[id] = nil
        pool.ended(id, on: worker)
        let summary = { (reason: RequestSummary.Reason) in
            RequestEvent.finished(RequestSummary(reason: reason, promptTokens: Int(finish.promptTokens),
                                                 completionTokens: Int(finish.completionTokens), speculation: finish.speculation))
        }
        switch finish.reason {
        case .stop: return [.deliver(id, summary(.stop))]
        case .length: return [.deliver(id, summary(.length))]
        case .cancelled:
            // Cancelled by the router for its client (nobody listens), or by the deadline (the worker's
            // own timer or the router's cancel).
            return entry.cancelled && !entry.timedOut ? [] : [.deliver(id, summary(.timeout))]
        case .error:
            if pool[worker]?.draining == true, entry.produced.count == entry.request.assignment.producedTokenIDs.count {
                // Assigned while the worker's `drain` was on its way: it never started; run it elsewhere.
                var request = entry.request
                request.attempts -= 1
                queue.prepend(request)
                return dispatch(request.model, now: now)
            }
            let message = finish.errorMessage.isEmpty ? "the worker failed the request" : finish.errorMessage
            let error: OpenAIError = entry.produced.isEmpty
                ? .invalid(nil, "the worker refused the request: \(message)", code: "rejected_by_worker")
                : .internalError("the worker failed the request after \(entry.produced.count) tokens: \(message)")
            return entry.cancelled ? [] : [.deliver(id, .failed(error))]
        }
    }

    /// The worker is gone (closed, failed, or silent past the heartbeat timeout). Its unfinished
    /// requests go back to the front of the queue, oldest first, with the tokens their clients already
    /// have, and resume on another worker.
    mutating func workerLost(_ worker: WorkerID, now: NIODeadline) -> [RouterAction] {
        guard let lost = pool.remove(worker) else { return [] }
        var actions: [RouterAction] = []
        for id in lost.running.sorted(by: >) {
            guard var entry = running.removeValue(forKey: id) else { continue }
            if entry.timedOut {
                actions.append(.deliver(id, .finished(RequestSummary(reason: .timeout, promptTokens: 0, completionTokens: entry.produced.count))))
                continue
            }
            if entry.cancelled { continue }
            if entry.request.attempts >= maxAttempts {
                actions.append(.deliver(id, .failed(.unavailable(
                    "the request lost its worker \(entry.request.attempts) times (the last: '\(lost.name)'); giving up", code: "worker_lost"))))
                continue
            }
            if entry.produced.count >= Int(entry.request.assignment.maxTokens) {
                actions.append(.deliver(id, .finished(RequestSummary(reason: .length, promptTokens: 0, completionTokens: entry.produced.count))))
                continue
            }
            entry.request.assignment.producedTokenIDs = entry.produced
            queue.prepend(entry.request)
        }
        return actions + dispatch(lost.model, now: now)
    }
}
