import Speculation
import Transformer

extension InferenceEngine {
    /// One scheduling step: admit, plan, run the model, sample or accept, emit. Returns the events.
    public func step() -> [EngineEvent] {
        guard hasWork else { return [] }
        let started = monotonicSeconds()
        let draftedBefore = statistics.draftSeconds
        catchUpSeconds = 0
        var events: [EngineEvent] = []
        admit(&events)
        var allowDrafts = true
        while true {
            buildPlan(allowDrafts: allowDrafts)
            if batch.isEmpty { break }
            switch model.forward(batch, cache: cache) {
            case .ok:
                let emitted = processResults(&events)
                let elapsed = monotonicSeconds() - started
                statistics.steps += 1
                statistics.stepSeconds += elapsed
                statistics.generatedTokens += emitted
                // A request's first token of the step sits at its cached length.
                let contextTokens = batch.positions.reduce(0) { $0 + Int($1) }
                let sequenceContext = plan.reduce(0) { $0 + Int(batch.positions[$1.start]) }
                let drafting = statistics.draftSeconds - draftedBefore
                // For the speed guard, priced before this step teaches the cost model: what the step was
                // expected to cost (drafting included), and what a plain step of the same requests costs
                // now, the unit of the guard's arms.
                let logitRows = batch.logitRowCount
                let guardPrices = guardAllowedDrafts == nil ? nil : stepCosts.map { costs in (
                    expected: drafting + costs.cost(tokens: batch.count, logitRows: logitRows, contextTokens: contextTokens,
                                                    sequenceContext: sequenceContext),
                    plain: costs.cost(tokens: plan.count, contextTokens: sequenceContext,
                                      sequenceContext: sequenceContext)
                ) }
                let decodesOnly = plan.allSatisfy(\.decodes)
                stepCosts?.observe(tokens: batch.count, logitRows: logitRows, contextTokens: contextTokens,
                                   sequenceContext: sequenceContext, seconds: elapsed - drafting, prompt: !decodesOnly)
                if decodesOnly {
                    statistics.decodeStepSeconds += elapsed
                    statistics.decodeTokens += emitted
                    // The arms are the guard's two answers, whatever the policy then chose: a step
                    // that drafted and kept nothing still paid for drafting, and that is `auto`'s cost.
                    // Catching up is not: a request counts the n-grams of every token once, drafting
                    // each step or not, but a probe after hundreds of plain steps counts them all at
                    // once. At batch 1 on the bundled model that was 200-360 µs against a 0.45 ms step,
                    // every such probe measured drafts 40% slower, and `auto` stayed plain.
                    if let allowed = guardAllowedDrafts, let guardPrices {
                        speedGuard?.observe(decoding: plan.count, drafted: allowed, tokens: emitted,
                                            seconds: elapsed - catchUpSeconds, expected: guardPrices.expected - catchUpSeconds,
                                            plainSeconds: guardPrices.plain)
                    }
                }
                return events
            case .cacheFull:
                // Drafts are optional: drop them before taking a running request's cache away.
                if allowDrafts && !drafts.isEmpty {
                    allowDrafts = false
                    continue
                }
                guard preemptYoungest(&events) else { return events }
            }
        }
        return events
    }

    // MARK: - Admission and preemption

    /// Moves waiting requests to running while the cache can hold their whole current context, keeping
    /// one free block per running request so that decoding does not immediately preempt.
    func admit(_ events: inout [EngineEvent]) {
        while let id = waiting.first, running.count < configuration.maxRunning, let state = requests[id] {
            let sequence = cache.createSequence()
            let needed = cache.blocksNeeded(sequence, slots: state.tokens.count + 1)
            guard needed + running.count <= cache.freeBlockCount || running.isEmpty,
                  cache.reserve(sequence, slots: state.tokens.count + 1) else {
                cache.release(sequence)
                return
            }
            waiting.removeFirst()
            state.sequence = sequence
            state.phase = .running
            state.computed = 0
            admissions += 1
            state.admittedAt = admissions
            requests[id] = state
            running.append(id)
        }
    }

    /// Frees the most recently admitted request's cache and puts it back at the head of the queue; it will
    /// recompute its prompt and output. Returns false when nothing could be preempted.
    func preemptYoungest(_ events: inout [EngineEvent]) -> Bool {
        guard let victim = running.max(by: { requests[$0]!.admittedAt < requests[$1]!.admittedAt }) else { return false }
        if running.count == 1 {
            // Alone and still too big: it can never fit.
            events += finish(victim, reason: .length, message: "the KV cache is full")
            return true
        }
        let state = requests[victim]!
        cache.release(state.sequence!)
        state.sequence = nil
        state.phase = .waiting
        state.computed = 0
        requests[victim] = state
        running.removeAll { $0 == victim }
        waiting.insert(victim, at: 0)
        statistics.preemptions += 1
        return true
    }

    // MARK: - Planning

    /// Decode tokens first (one per decoding request, plus its drafts), then prompt chunks within the token budget.
    func buildPlan(allowDrafts: Bool) {
        batch.removeAll()
        plan.removeAll(keepingCapacity: true)
        drafts.removeAll(keepingCapacity: true)
        guardAllowedDrafts = nil
        var budget = configuration.maxTokensPerStep
        var logitRows = 0
        let decoding = running.filter { requests[$0]?.pendingInput == 1 }
        let prefillPending = running.reduce(0) { total, id in
            let pending = requests[id]?.pendingInput ?? 0
            return total + (pending > 1 ? pending : 0)
        }
        let prefillShare = min(prefillPending, max(0, budget - decoding.count))
        if allowDrafts {
            planDrafts(decoding, limit: budget - decoding.count - prefillShare, prefillTokens: prefillShare)
        }
        var draftIndex: [UInt64: Int] = [:]
        for (index, draft) in drafts.enumerated() where draft.used > 0 { draftIndex[draft.request] = index }

        for id in decoding {
            guard budget > 0, let state = requests[id], let sequence = state.sequence else { continue }
            let root = batch.count
            batch.appendChain([state.tokens[state.computed]], sequence: sequence, startPosition: state.computed)
            var entry = PlanEntry(request: id, start: root, count: 1, logitRow: logitRows, decodes: true)
            logitRows += 1
            budget -= 1
            if let index = draftIndex[id] {
                let draft = drafts[index]
                for node in 0..<draft.used {
                    let parent = Int(draft.tree.parents[node])
                    batch.append(token: Int(draft.tree.tokens[node]),
                                 position: state.computed + Int(draft.tree.depths[node]), sequence: sequence,
                                 parent: parent < 0 ? root : root + 1 + parent,
                                 cacheSlot: state.computed + 1 + node, wantsLogits: true)
                }
                entry.draft = index
                logitRows += draft.used
                budget -= draft.used
            }
            plan.append(entry)
        }
        for id in running {
            guard budget > 0, let state = requests[id], let sequence = state.sequence, state.pendingInput > 1 else { continue }
            let count = min(state.pendingInput, budget)
            let completes = count == state.pendingInput
            let start = batch.count
            batch.appendChain(state.tokens[state.computed..<(state.computed + count)], sequence: sequence,
                              startPosition: state.computed, logits: completes ? .last : .none)
            plan.append(PlanEntry(request: id, start: start, count: count, logitRow: completes ? logitRows : nil))
            if completes { logitRows += 1 }
            budget -= count
        }
    }

    // MARK: - Results

    /// Commits the step's cache entries, samples where a chain completed, and emits. Returns tokens emitted.
    func processResults(_ events: inout [EngineEvent]) -> Int {
        var emitted = 0
        for entry in plan {
            if let draft = entry.draft {
                emitted += verify(entry, draft: drafts[draft], events: &events)
                continue
            }
            guard var state = requests[entry.request], let sequence = state.sequence else { continue }
            cache.commit(sequence, count: entry.count)
            state.computed += entry.count
            guard let row = entry.logitRow else {
                requests[entry.request] = state
                continue
            }
            if !entry.decodes {
                // The prompt is in: count its n-grams in the step that prefilled it, where they cost
                // about a thousandth of the prefill. Left to the first drafting step, a batch of 32
                // code-long prompts took 3.9 ms to count against a 17.7 ms decode step, and `auto` read
                // 0.98-0.99x `off` at that batch size.
                state.draftState?.catchUp()
            }
            let logits = model.logits(row: row)
            let token = state.sampler.sample(logits, work: work)
            let logprobs = state.request.logprobs.map { [TokenLogprob(row: logits, token: token, alternatives: $0)] }
            record(&state, tree: DraftTree(), path: [])
            requests[entry.request] = state
            emitted += emit([token], logprobs: logprobs, for: entry.request, events: &events).0
        }
        return emitted
    }

    /// Appends sampled tokens to a request in order, applying EOS, stop strings, max tokens and the
    /// context limit; emits one `.tokens` event (ids only with the text they complete, see
    /// `OutputGate`) and, when it ends, `.finished`. `logprobs`, when the request wants them, is
    /// parallel to `tokens`. Returns (tokens taken, finished).
    func emit(_ tokens: [Int], logprobs: [TokenLogprob]? = nil, for id: UInt64, events: inout [EngineEvent]) -> (Int, Bool) {
        guard let state = requests[id] else { return (0, true) }
        var sent = OutputGate.Output()
        var taken = 0
        var reason: FinishReason?
        var endOfText = false
        for (index, token) in tokens.enumerated() {
            if state.request.stopAtEOS && eosTokens.contains(token) {
                reason = .stop
                endOfText = true
                break
            }
            taken += 1
            state.tokens.append(token)
            state.generated += 1
            state.sampler.record(token)
            state.draftState?.appendLater(Int32(token))
            let output = state.output.push(token, logprob: logprobs?[index])
            sent.ids += output.ids
            sent.text += output.text
            sent.logprobs += output.logprobs
            if output.stopped {
                reason = .stop
                break
            }
            if state.generated >= state.request.maxTokens || state.tokens.count >= model.maxContext {
                reason = .length
                endOfText = true
                break
            }
        }
        if endOfText {
            // Nothing more will come: release what the detokenizer and stop matcher hold back.
            let tail = state.output.finish()
            sent.ids += tail.ids
            sent.text += tail.text
            sent.logprobs += tail.logprobs
            if tail.stopped { reason = .stop }
        }
        requests[id] = state
        if !sent.ids.isEmpty || !sent.text.isEmpty {
            events.append(.tokens(request: id, ids: sent.ids, text: sent.text, logprobs: sent.logprobs))
        }
        if let reason {
            events += finish(id, reason: reason)
            return (taken, true)
        }
        return (taken, false)
    }
}
