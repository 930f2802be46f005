import Kernels
import Speculation
import Transformer

// Speculative steps: draft trees for decoding requests, the budget policy, and verification.

extension InferenceEngine {
    /// Drafts for the decoding requests that speculate, and how many nodes of each the step verifies.
    /// - Parameters:
    ///   - limit: draft tokens the step may add in total.
    ///   - prefillTokens: prompt tokens the step carries anyway (they are part of its cost).
    func planDrafts(_ decoding: [UInt64], limit: Int, prefillTokens: Int) {
        guard let costs = stepCosts, let cap = speculation?.maxDraftsPerRequest, limit > 0 else { return }
        let started = monotonicSeconds()
        let autoDecoding = decoding.contains { id in
            if case .auto = requests[id]?.request.speculation { return true } else { return false }
        }
        let context = decoding.reduce(0) { $0 + (requests[$1]?.computed ?? 0) }
        var affordableCount: Int?
        // Computed once, and only when an `auto` request drafts: it weighs dozens of step costs.
        func affordable() -> Int {
            if let affordableCount { return affordableCount }
            let count = DraftCost.affordableDrafts(decoding: decoding.count, context: context, costs: costs, cap: cap)
            affordableCount = count
            return count
        }
        var autoAllowed = false
        var sampling = false
        if autoDecoding {
            if !draftCost.canPay(decoding: decoding.count, context: context, costs: costs, cap: cap) {
                draftCost.ruledOut()
            } else if speedGuard != nil {
                // Asked only when `auto` requests could draft, so its arms count only the steps it decided.
                autoAllowed = speedGuard!.allowsDrafts(decoding: decoding.count)
                sampling = speedGuard!.samplesDrafts
                guardAllowedDrafts = autoAllowed
            } else {
                autoAllowed = true
            }
        }
        var jobs: [DraftJob] = []
        for id in decoding {
            guard let state = requests[id], state.draftState != nil else { continue }
            let room = model.maxContext - state.computed - 2
            let budget: Int
            switch state.request.speculation {
            case .off: continue
            case .fixed(let count): budget = min(count, room)
            case .auto(let cap):
                // A step sampling the guard's drafted arm must draft, or it measures plain decoding.
                guard autoAllowed, sampling || state.draftBackoff.shouldDraft() else { continue }
                budget = min(cap ?? affordable(), affordable(), room)
            }
            guard budget > 0 else { continue }
            jobs.append(DraftJob(state: state, budget: budget))
        }
        draftInParallel(&jobs)
        for job in jobs {
            draftCost.record(seconds: job.seconds)
            guard !job.tree.isEmpty else { continue }
            // The engine-wide curve, with no factor of the request's own: one taken from its last few
            // verified trees fell after each miss, its trees were then turned down, so it was never
            // measured again. At batch 1 on the bundled model `auto` kept 1.3-1.5 tokens per step with
            // it, where a fixed budget of 3 kept 2.9.
            drafts.append(StepDraft(request: job.state.request.id, tree: job.tree, used: 0,
                                    gains: job.tree.probabilities.map { acceptanceCurve.acceptance(Double($0)) },
                                    context: job.state.computed, draftSeconds: job.seconds))
        }
        statistics.draftSeconds += monotonicSeconds() - started
        allocate(limit: limit, decoding: decoding, promptTokens: prefillTokens, baseContext: context, costs: costs)
    }

    /// One request's drafting this step: what it asks for, and what the drafter gave.
    struct DraftJob {
        let state: RequestState
        let budget: Int
        var tree = DraftTree()
        /// Seconds drafting its tree; after `draftInParallel`, its share of the step's drafting wall time
        /// (catching its statistics up not included).
        var seconds = 0.0
        /// Seconds catching up and drafting.
        var busy = 0.0
    }

    /// Catches each job's request statistics up and drafts its tree, the jobs spread over the compute
    /// pool: each request's statistics are its own and the datastore is read-only, so only the drafter's
    /// scratch space is per thread. Between forward passes the pool's other threads would only wait
    /// for the next one (a tenth of the samples of a batch-8 decode on 2 cores).
    ///
    /// A job's `seconds` is its measured drafting time scaled by how much the threads overlapped (the
    /// region's wall time over the sum of every job's time), so the budget policy charges each request
    /// what its drafting adds to the step. The catching up, scaled the same way, goes to `catchUpSeconds`.
    private func draftInParallel(_ jobs: inout [DraftJob]) {
        guard !jobs.isEmpty else { return }
        let started = monotonicSeconds()
        jobs.withUnsafeMutableBufferPointer { jobs in
            drafters.withUnsafeMutableBufferPointer { drafters in
                model.pool.parallelFor(jobs.count) { index, thread in
                    let begin = monotonicSeconds()
                    jobs[index].state.draftState!.catchUp()
                    let caughtUp = monotonicSeconds()
                    drafters[thread].draft(state: jobs[index].state.draftState!, budget: jobs[index].budget,
                                           into: &jobs[index].tree)
                    let end = monotonicSeconds()
                    jobs[index].seconds = end - caughtUp
                    jobs[index].busy = end - begin
                }
            }
        }
        let wall = monotonicSeconds() - started
        let total = jobs.reduce(0) { $0 + $1.busy }
        let overlap = total > 0 ? min(1, wall / total) : 1
        catchUpSeconds += jobs.reduce(0) { $0 + $1.busy - $1.seconds } * overlap
        for index in jobs.indices { jobs[index].seconds *= overlap }
    }

    /// Fixed budgets take their drafts as drafted; `auto` ones share what the policy finds worth its cost.
    private func allocate(limit: Int, decoding: [UInt64], promptTokens: Int, baseContext: Int, costs: ObservedStepCost) {
        let baseTokens = decoding.count + promptTokens
        var remaining = limit
        var plainTokens = Double(decoding.count)
        var automatic: [Int] = []
        for index in drafts.indices {
            guard let state = requests[drafts[index].request] else { continue }
            if case .fixed = state.request.speculation {
                drafts[index].used = min(drafts[index].tree.count, remaining)
                remaining -= drafts[index].used
                plainTokens += drafts[index].gains.prefix(drafts[index].used).reduce(0, +)
            } else {
                automatic.append(index)
            }
        }
        guard !automatic.isEmpty, remaining > 0 else { return }
        let counts = BudgetPolicy(costs: costs).allocate(
            gains: automatic.map { drafts[$0].gains }, contexts: automatic.map { drafts[$0].context },
            draftSeconds: automatic.map { drafts[$0].draftSeconds }, plainTokens: plainTokens,
            baseTokens: baseTokens + (limit - remaining), promptTokens: promptTokens, baseContext: baseContext,
            limit: remaining)
        // A request's share of the plain step, against which its drafting time is weighed.
        let share = costs.cost(tokens: baseTokens, logitRows: decoding.count, contextTokens: baseContext,
                               sequenceContext: baseContext) / Double(max(decoding.count, 1))
        for (slot, index) in automatic.enumerated() {
            drafts[index].used = counts[slot]
            let negligible = drafts[index].draftSeconds < DraftBackoff.negligibleShare * share
            requests[drafts[index].request]?.draftBackoff.record(kept: counts[slot] > 0, negligible: negligible)
        }
    }

    /// Accepts the longest draft path the model agrees with (greedy) or exact rejection sampling, keeps
    /// its cache entries, and emits accepted drafts plus the bonus token. Returns tokens emitted.
    func verify(_ entry: PlanEntry, draft: StepDraft, events: inout [EngineEvent]) -> Int {
        guard var state = requests[entry.request], let sequence = state.sequence, let rootRow = entry.logitRow else { return 0 }
        let tree = draft.used == draft.tree.count ? draft.tree
            : DraftTree(tokens: Array(draft.tree.tokens.prefix(draft.used)), parents: Array(draft.tree.parents.prefix(draft.used)),
                        probabilities: Array(draft.tree.probabilities.prefix(draft.used)))
        func row(_ node: Int) -> UnsafeBufferPointer<Float> { model.logits(row: rootRow + 1 + node) }
        let rootLogits = model.logits(row: rootRow)
        let base = state.sampler
        /// The sampler as plain decoding would hold it after emitting the path to `node`.
        func sampler(at node: Int) -> Sampler {
            var copy = base
            var path: [Int] = []
            var current = node
            while current >= 0 {
                path.append(Int(tree.tokens[current]))
                current = Int(tree.parents[current])
            }
            for token in path.reversed() { copy.record(token) }
            return copy
        }
        let outcome: (path: [Int], bonus: Int32)
        if state.request.parameters.isGreedy {
            outcome = Acceptance.greedy(
                tree: tree, argmaxAtRoot: Int32(greedyToken(base, rootLogits)),
                argmaxAtNode: { node in Int32(self.greedyToken(sampler(at: node), row(node))) })
        } else {
            var random = state.sampler
            outcome = random.withRandom { stream in
                Acceptance.sample(tree: tree, distribution: { node in
                    var at = node < 0 ? base : sampler(at: node)
                    return at.weights(node < 0 ? rootLogits : row(node), work: self.work)
                }, using: &stream)
            }
            state.sampler = random
        }
        let slots = [state.computed] + outcome.path.map { state.computed + 1 + $0 }
        cache.acceptPath(sequence, slots: slots)
        state.computed += slots.count
        record(&state, tree: tree, path: outcome.path)
        requests[entry.request] = state
        let tokens = outcome.path.map { Int(tree.tokens[$0]) } + [Int(outcome.bonus)]
        // Each token's logprob comes from the row that produced it: the root's for the first, then the
        // row of the accepted node before it, exactly the rows plain decoding would have computed.
        let logprobs = state.request.logprobs.map { alternatives in
            tokens.indices.map { index in
                TokenLogprob(row: index == 0 ? rootLogits : row(outcome.path[index - 1]), token: tokens[index], alternatives: alternatives)
            }
        }
        let (count, _) = emit(tokens, logprobs: logprobs, for: entry.request, events: &events)
        return count
    }

    private func greedyToken(_ sampler: Sampler, _ logits: UnsafeBufferPointer<Float>) -> Int {
        var copy = sampler
        return copy.sample(logits, work: work)
    }

    /// Speculation counters and the engine's acceptance curve.
    func record(_ state: inout RequestState, tree: DraftTree, path: [Int]) {
        var counts = SpeculationCounts()
        counts.steps = 1
        if !tree.isEmpty {
            counts.drafts = 1
            counts.draftTokens = tree.count
            counts.acceptedTokens = path.count
            counts.acceptedPerPosition = Array(repeating: 1, count: path.count)
        }
        state.speculation.add(counts)
        statistics.speculation.add(counts)
        if !tree.isEmpty { acceptanceCurve.record(probabilities: tree.probabilities, path: path) }
    }
}
