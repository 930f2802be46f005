import NIOCore
import Testing
import Wire
@testable import Router

/// The router's decisions as a value: requests, workers and failures, no sockets.
@Suite("Router state machine")
struct RouterStateTests {
    static let now = NIODeadline.uptimeNanoseconds(5_000_000_000)
    static let register = Register(modelID: "m", contextLength: 1024, maxBatchSequences: 4, kvCapacityTokens: 4096,
                                   maxPromptTokens: 1000, maxOutputTokens: 1000, supportsSpeculation: true)
    static let w1 = WorkerID(1)
    static let w2 = WorkerID(2)

    static func job(maxTokens: UInt32? = 8, model: String = "m", timeout: TimeAmount = .seconds(30)) -> GenerationJob {
        GenerationJob(model: model, assignment: Assignment(requestID: 0, prompt: .text("def f():"), maxTokens: 0,
                                                         speculation: .auto(cap: nil)),
                      maxTokens: maxTokens, timeout: timeout)
    }

    /// A state with workers registered (no credits yet).
    static func state(workers: [WorkerID] = [w1], maxQueue: Int = 8, register: Register = register) -> RouterState {
        var state = RouterState(maxQueue: maxQueue)
        for worker in workers {
            let actions = state.register(worker, name: "\(worker)", register)
            #expect(actions == [.send(worker, .registration(Registration(accepted: true)))])
        }
        return state
    }

    static func assignments(_ actions: [RouterAction]) -> [(WorkerID, Assignment)] {
        actions.compactMap { if case .send(let worker, .assign(let assignment)) = $0 { (worker, assignment) } else { nil } }
    }

    static func submit(_ state: inout RouterState, _ id: UInt64, _ job: GenerationJob = job(), at time: NIODeadline = now) throws -> [RouterAction] {
        try state.submit(job, id: id, now: time).get()
    }

    @Test("unknown models are 404, known models without a worker 503, and a full queue 429")
    func admission() throws {
        var state = RouterState(maxQueue: 1)
        let unknown = state.submit(Self.job(), id: 1, now: Self.now)
        #expect(unknown.failure?.status == 404)
        _ = state.register(Self.w1, name: "a", Self.register)
        let waiting = try Self.submit(&state, 1)
        #expect(waiting.isEmpty, "no credit yet: the request waits")
        let full = state.submit(Self.job(), id: 2, now: Self.now)
        #expect(full.failure?.code == "queue_full")
        let tooLong = state.submit(Self.job(maxTokens: 1001), id: 3, now: Self.now)
        #expect(tooLong.failure?.param == "max_tokens")
        _ = state.workerLost(Self.w1, now: Self.now)
        let orphan = state.submit(Self.job(), id: 4, now: Self.now)
        #expect(orphan.failure?.code == "no_worker")
        let idle = state.beginDrain()
        #expect(!idle, "request 1 still waits for a worker")
        let draining = state.submit(Self.job(), id: 5, now: Self.now)
        #expect(draining.failure?.code == "draining")
    }

    @Test("credits pull requests in order; the assignment carries the id, the limit and the time left")
    func pullByCredits() throws {
        var state = Self.state()
        _ = try Self.submit(&state, 1, Self.job(maxTokens: nil))
        _ = try Self.submit(&state, 2)
        let actions = state.credits(Self.w1, 1, now: Self.now + .seconds(10))
        let assigned = Self.assignments(actions)
        #expect(assigned.count == 1)
        #expect(assigned[0].0 == Self.w1)
        #expect(assigned[0].1.requestID == 1)
        #expect(assigned[0].1.maxTokens == 1000, "no max_tokens: the model's limit")
        #expect(assigned[0].1.timeoutMilliseconds == 20_000, "30 s timeout, 10 s spent queued")
        #expect(state.queue.count == 1 && state.running.count == 1)
        let next = Self.assignments(state.credits(Self.w1, 5, now: Self.now))
        #expect(next.map(\.1.requestID) == [2])
        #expect(state.pool[Self.w1]?.credits == 4)
    }

    @Test("the worker with the most credits gets the next request, so load follows free room")
    func loadSpreading() throws {
        var state = Self.state(workers: [Self.w1, Self.w2])
        _ = state.credits(Self.w1, 1, now: Self.now)
        _ = state.credits(Self.w2, 3, now: Self.now)
        var targets: [WorkerID] = []
        for id in 1...4 {
            targets += Self.assignments(try Self.submit(&state, UInt64(id))).map(\.0)
        }
        #expect(targets == [Self.w2, Self.w2, Self.w1, Self.w2])
        let fifth = try Self.submit(&state, 5)
        #expect(fifth.isEmpty, "no credit left anywhere")
    }

    @Test("tokens and finish reach the request; counts pass through")
    func streaming() throws {
        var state = Self.state()
        _ = state.credits(Self.w1, 1, now: Self.now)
        _ = try Self.submit(&state, 7)
        let delivered = state.tokens(Self.w1, TokenEvent(requestID: 7, tokenIDs: [1, 2], text: "ab"))
        #expect(delivered == [.deliver(7, .tokens(text: "ab", count: 2))])
        let stray = state.tokens(Self.w2, TokenEvent(requestID: 7, tokenIDs: [3], text: "c"))
        #expect(stray.isEmpty, "another worker's frames for it are ignored")
        let counts = SpeculationCounts(drafts: 1, draftTokens: 3, acceptedTokens: 1, steps: 2)
        let finish = Finish(requestID: 7, reason: .length, promptTokens: 4, completionTokens: 2, speculation: counts)
        let finished = state.finish(Self.w1, finish, now: Self.now)
        #expect(finished == [.deliver(7, .finished(RequestSummary(reason: .length, promptTokens: 4, completionTokens: 2, speculation: counts)))])
        #expect(state.running.isEmpty && state.pool[Self.w1]?.running.isEmpty == true)
        let again = state.finish(Self.w1, finish, now: Self.now)
        #expect(again.isEmpty, "a second finish is ignored")
    }

    @Test("a lost worker's requests resume elsewhere, at the front, with the tokens already delivered")
    func failover() throws {
        var state = Self.state(workers: [Self.w1, Self.w2])
        _ = state.credits(Self.w1, 2, now: Self.now)
        _ = try Self.submit(&state, 1)
        _ = try Self.submit(&state, 2)
        _ = try Self.submit(&state, 3)  // waits: no credit left
        _ = state.tokens(Self.w1, TokenEvent(requestID: 1, tokenIDs: [10, 11], text: "xy"))
        _ = state.tokens(Self.w1, TokenEvent(requestID: 2, tokenIDs: [20], text: "z"))
        let lost = state.workerLost(Self.w1, now: Self.now)
        #expect(lost.isEmpty, "no other worker has credit yet")
        #expect(state.queue.requests(of: "m").map(\.id) == [1, 2, 3])
        let resumed = Self.assignments(state.credits(Self.w2, 3, now: Self.now))
        #expect(resumed.map(\.1.requestID) == [1, 2, 3])
        #expect(resumed.map(\.1.producedTokenIDs) == [[10, 11], [20], []])
        #expect(resumed.allSatisfy { $0.0 == Self.w2 })
        _ = state.tokens(Self.w2, TokenEvent(requestID: 1, tokenIDs: [12], text: "!"))
        #expect(state.running[1]?.produced == [10, 11, 12])
    }

    @Test("logprobs reach the request with their tokens; a resumed assignment still asks for them")
    func logprobsAcrossFailover() throws {
        var state = Self.state(workers: [Self.w1, Self.w2])
        _ = state.credits(Self.w1, 1, now: Self.now)
        var job = Self.job()
        job.assignment.logprobs = 2
        let first = Self.assignments(try Self.submit(&state, 1, job))
        #expect(first.map(\.1.logprobs) == [2])
        let entries = [TokenLogprobs(logprob: -0.5, bytes: [0x78], top: [LogprobAlternative(tokenID: 10, logprob: -0.5, bytes: [0x78])]),
                       TokenLogprobs(logprob: -1, bytes: [0x79])]
        let delivered = state.tokens(Self.w1, TokenEvent(requestID: 1, tokenIDs: [10, 11], text: "xy", logprobs: entries))
        #expect(delivered == [.deliver(1, .tokens(text: "xy", count: 2, logprobs: entries))])
        _ = state.workerLost(Self.w1, now: Self.now)
        let resumed = Self.assignments(state.credits(Self.w2, 1, now: Self.now))
        #expect(resumed.map(\.1.producedTokenIDs) == [[10, 11]])
        #expect(resumed.map(\.1.logprobs) == [2], "the new worker continues the logprobs")
    }

    @Test("a request that keeps losing its worker fails after maxAttempts")
    func attemptsAreBounded() throws {
        var state = RouterState(maxQueue: 4, maxAttempts: 2)
        var worker = 0
        func newWorker() -> WorkerID {
            worker += 1
            let id = WorkerID(worker)
            _ = state.register(id, name: "w", Self.register)
            return id
        }
        var current = newWorker()
        _ = state.credits(current, 1, now: Self.now)
        _ = try Self.submit(&state, 1)
        _ = state.workerLost(current, now: Self.now)
        current = newWorker()
        let reassigned = Self.assignments(state.credits(current, 1, now: Self.now))
        #expect(reassigned.count == 1)
        let actions = state.workerLost(current, now: Self.now)
        guard case .deliver(1, .failed(let error)) = actions.first else { Issue.record("expected a failure, got \(actions)"); return }
        #expect(error.status == 503 && error.code == "worker_lost")
    }

    @Test("a client that leaves is dropped from the queue, or cancelled once on its worker")
    func clientGone() throws {
        var state = Self.state()
        _ = try Self.submit(&state, 1)
        let queuedGone = state.clientGone(1)
        #expect(queuedGone.isEmpty)
        #expect(state.queue.count == 0)
        _ = state.credits(Self.w1, 1, now: Self.now)
        _ = try Self.submit(&state, 2)
        let cancel = state.clientGone(2)
        #expect(cancel == [.send(Self.w1, .cancel(Cancel(requestID: 2)))])
        let second = state.clientGone(2)
        #expect(second.isEmpty, "at most one cancel per request")
        let late = state.tokens(Self.w1, TokenEvent(requestID: 2, tokenIDs: [1], text: "a"))
        #expect(late.isEmpty, "tokens after a cancel are dropped")
        let end = state.finish(Self.w1, Finish(requestID: 2, reason: .cancelled, promptTokens: 1, completionTokens: 1), now: Self.now)
        #expect(end.isEmpty)
        #expect(state.inFlight == 0)
    }

    @Test("deadlines fail queued requests and cancel running ones, which then finish as timeout")
    func deadlines() throws {
        var state = Self.state()
        _ = state.credits(Self.w1, 1, now: Self.now)
        _ = try Self.submit(&state, 1, Self.job(timeout: .seconds(5)))
        _ = try Self.submit(&state, 2, Self.job(timeout: .seconds(5)))
        _ = try Self.submit(&state, 3, Self.job(timeout: .seconds(50)))
        let early = state.expire(now: Self.now + .seconds(4))
        #expect(early.isEmpty)
        let actions = state.expire(now: Self.now + .seconds(5))
        #expect(actions.count == 2)
        #expect(actions.contains(.send(Self.w1, .cancel(Cancel(requestID: 1)))))
        #expect(actions.contains(.deliver(2, .failed(.timedOut(seconds: 5)))))
        let later = state.expire(now: Self.now + .seconds(6))
        #expect(later.isEmpty, "cancelled once")
        let finished = state.finish(Self.w1, Finish(requestID: 1, reason: .cancelled, promptTokens: 3, completionTokens: 2), now: Self.now)
        #expect(finished == [.deliver(1, .finished(RequestSummary(reason: .timeout, promptTokens: 3, completionTokens: 2)))])
        #expect(state.queue.requests(of: "m").map(\.id) == [3])
    }

    @Test("a worker's own deadline finish (cancelled, not asked for) is a timeout too")
    func workerDeadline() throws {
        var state = Self.state()
        _ = state.credits(Self.w1, 1, now: Self.now)
        _ = try Self.submit(&state, 1)
        let finished = state.finish(Self.w1, Finish(requestID: 1, reason: .cancelled, promptTokens: 1, completionTokens: 0), now: Self.now)
        #expect(finished == [.deliver(1, .finished(RequestSummary(reason: .timeout, promptTokens: 1, completionTokens: 0)))])
    }

    @Test("worker errors: before any token a 400, after tokens a 500, after drain a silent retry")
    func workerErrors() throws {
        var state = Self.state(workers: [Self.w1, Self.w2])
        _ = state.credits(Self.w1, 3, now: Self.now)
        _ = try Self.submit(&state, 1)
        _ = try Self.submit(&state, 2)
        _ = try Self.submit(&state, 3)
        let refused = state.finish(Self.w1, Finish(requestID: 1, reason: .error, promptTokens: 0, completionTokens: 0,
                                                   errorMessage: "the prompt has 2000 tokens"), now: Self.now)
        #expect(refused.first.flatMap { if case .deliver(1, .failed(let e)) = $0 { e.status } else { nil } } == 400)
        _ = state.tokens(Self.w1, TokenEvent(requestID: 2, tokenIDs: [1], text: "a"))
        let failed = state.finish(Self.w1, Finish(requestID: 2, reason: .error, promptTokens: 1, completionTokens: 1,
                                                  errorMessage: "engine failed"), now: Self.now)
        #expect(failed.first.flatMap { if case .deliver(2, .failed(let e)) = $0 { e.status } else { nil } } == 500)
        state.drain(Self.w1)
        _ = state.credits(Self.w2, 1, now: Self.now)
        let retried = state.finish(Self.w1, Finish(requestID: 3, reason: .error, promptTokens: 0, completionTokens: 0,
                                                   errorMessage: "request 3 was assigned after this worker sent drain"), now: Self.now)
        #expect(Self.assignments(retried).map { $0.0 } == [Self.w2])
    }

    @Test("a drained worker gets nothing new, and credits it sends later are void")
    func drainingWorker() throws {
        var state = Self.state(workers: [Self.w1, Self.w2])
        _ = state.credits(Self.w1, 4, now: Self.now)
        state.drain(Self.w1)
        let void = state.credits(Self.w1, 4, now: Self.now)
        #expect(void.isEmpty)
        let waiting = try Self.submit(&state, 1)
        #expect(waiting.isEmpty)
        let assigned = Self.assignments(state.credits(Self.w2, 1, now: Self.now))
        #expect(assigned.map(\.0) == [Self.w2])
        #expect(state.pool.models["m"]?.workers == 1)
    }

    @Test("registrations with inconsistent limits are refused with a reason")
    func registrationRefusals() {
        var state = Self.state()
        var other = Self.register
        other.contextLength = 2048
        other.maxPromptTokens = 2000
        let actions = state.register(Self.w2, name: "big", other)
        guard case .send(_, .registration(let registration)) = actions.first, case .close(Self.w2, let error) = actions.last else {
            Issue.record("expected a refusal, got \(actions)"); return
        }
        #expect(!registration.accepted && registration.reason.contains("context_length 2048"))
        #expect(error.code == .registrationRefused)
        var broken = Self.register
        broken.maxPromptTokens = broken.contextLength
        #expect(state.pool.refusal(for: broken, name: "x")?.contains("room to generate") == true)
        broken = Self.register
        broken.modelID = "has space"
        #expect(state.pool.refusal(for: broken, name: "x") != nil)
    }

    @Test("the bound applies to waiting: with a queue of 0, a request a worker takes at once is admitted")
    func zeroQueue() throws {
        var state = Self.state(maxQueue: 0)
        _ = state.credits(Self.w1, 1, now: Self.now)
        let first = try Self.submit(&state, 1)
        #expect(Self.assignments(first).count == 1)
        let second = state.submit(Self.job(), id: 2, now: Self.now)
        #expect(second.failure?.status == 429)
    }

    @Test("a worker without a drafter gets speculation off")
    func speculationOff() throws {
        var plain = Self.register
        plain.supportsSpeculation = false
        var state = Self.state(register: plain)
        _ = state.credits(Self.w1, 1, now: Self.now)
        let assigned = Self.assignments(try Self.submit(&state, 1))
        #expect(assigned.first?.1.speculation == .off)
    }
}

extension Result {
    var failure: Failure? { if case .failure(let error) = self { error } else { nil } }
}
