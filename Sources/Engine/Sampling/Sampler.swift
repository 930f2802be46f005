#if canImport(Glibc)
import Glibc
#endif

/// Turns one request's logits into its next token: penalties and bias, then greedy argmax or
/// temperature sampling with top-k, top-p and min-p (vLLM's order), from the request's own random stream.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var random: RandomStream
    /// Occurrences of each token in the output so far (presence / frequency penalties).
    private var outputCounts: [Int32: Int32] = [:]
    /// Tokens in prompt or output (repetition penalty).
    private var seen: Set<Int32> = []
    /// Candidates reused across calls: (token, probability).
    private var candidates: [(token: Int32, weight: Float)] = []

    public init(parameters: SamplingParameters, promptIDs: some Sequence<Int>) {
        self.parameters = parameters
        self.random = RandomStream(seed: parameters.seed ?? UInt64.random(in: .min ... .max))
        if parameters.repetitionPenalty != 1 {
            seen = Set(promptIDs.map { Int32($0) })
        }
    }

    private var needsAdjustment: Bool {
        parameters.repetitionPenalty != 1 || parameters.presencePenalty != 0
            || parameters.frequencyPenalty != 0 || !parameters.logitBias.isEmpty
    }

    /// Records an emitted token for the penalties.
    public mutating func record(_ token: Int) {
        if parameters.presencePenalty != 0 || parameters.frequencyPenalty != 0 {
            outputCounts[Int32(token), default: 0] += 1
        }
        if parameters.repetitionPenalty != 1 {
            seen.insert(Int32(token))
        }
    }

    /// Copies `logits` into `work` with penalties and bias applied. [vocab]
    public func adjust(_ logits: UnsafeBufferPointer<Float>, into work: UnsafeMutableBufferPointer<Float>) {
        _ = work.initialize(from: logits)
        let penalty = parameters.repetitionPenalty
        if penalty != 1 {
            for token in seen where Int(token) < work.count {
                let value = work[Int(token)]
                work[Int(token)] = value > 0 ? value / penalty : value * penalty
            }
        }
        for (token, count) in outputCounts where Int(token) < work.count {
            work[Int(token)] -= parameters.presencePenalty + parameters.frequencyPenalty * Float(count)
        }
        for (token, bias) in parameters.logitBias where token < work.count {
            work[token] += bias
        }
    }

    /// `logits` with penalties and bias applied (in `work`), or `logits` itself when there are none.
    private func adjusted(_ logits: UnsafeBufferPointer<Float>, work: UnsafeMutableBufferPointer<Float>) -> UnsafeBufferPointer<Float> {
        guard needsAdjustment else { return logits }
        adjust(logits, into: work)
        return UnsafeBufferPointer(work)
    }

    /// The next token. `work` is scratch of the vocabulary's size.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, work: UnsafeMutableBufferPointer<Float>) -> Int {
        let row = adjusted(logits, work: work)
        if parameters.isGreedy {
            return Self.argmax(row)
        }
        return draw(from: row)
    }

    /// Index of the largest value; the first one on ties (as torch.argmax).
    public static func argmax(_ row: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<row.count where row[i] > bestValue {
            best = i
            bestValue = row[i]
        }
        return best
    }

    /// Temperature softmax, then the top-k / top-p / min-p filters, then one draw.
    private mutating func draw(from row: UnsafeBufferPointer<Float>) -> Int {
        filterCandidates(row)
        let total = candidates.reduce(0) { $0 + $1.weight }
        var target = random.nextUnitFloat() * total
        for candidate in candidates {
            target -= candidate.weight
            if target < 0 { return Int(candidate.token) }
        }
        return Int(candidates.last?.token ?? Int32(Self.argmax(row)))
    }

    /// The distribution `sample` draws from, as unnormalised weights over the whole vocabulary (zero for
    /// filtered tokens); a point mass on the argmax when greedy. For verifying draft tokens exactly.
    public mutating func weights(_ logits: UnsafeBufferPointer<Float>, work: UnsafeMutableBufferPointer<Float>) -> [Float] {
        let row = adjusted(logits, work: work)
        var weights = [Float](repeating: 0, count: row.count)
        if parameters.isGreedy {
            weights[Self.argmax(row)] = 1
            return weights
        }
        filterCandidates(row)
        for candidate in candidates { weights[Int(candidate.token)] = candidate.weight }
        return weights
    }

    /// Runs `body` with the request's random stream (speculative acceptance draws from it too, so a
    /// seeded request stays reproducible).
    public mutating func withRandom<Result>(_ body: (inout RandomStream) -> Result) -> Result {
        body(&random)
    }

    /// Fills `candidates` with (token, weight) after temperature, top-k, top-p and min-p; weights are
    /// relative to the most likely token (which has weight 1).
    private mutating func filterCandidates(_ row: UnsafeBufferPointer<Float>) {
        let inverseTemperature = 1 / parameters.temperature
        let maxLogit = row.max() ?? 0
        candidates.removeAll(keepingCapacity: true)
        for i in 0..<row.count {
            let weight = expf((row[i] - maxLogit) * inverseTemperature)
            if weight > 0 {
                candidates.append((Int32(i), weight))
            }
        }
        if parameters.topK > 0 || parameters.topP < 1 {
            candidates.sort { $0.weight > $1.weight || ($0.weight == $1.weight && $0.token < $1.token) }
            if parameters.topK > 0 && candidates.count > parameters.topK {
                candidates.removeLast(candidates.count - parameters.topK)
            }
            if parameters.topP < 1 {
                let kept = candidates.reduce(0) { $0 + $1.weight }
                var cumulative: Float = 0
                var keep = candidates.count
                for (index, candidate) in candidates.enumerated() {
                    cumulative += candidate.weight
                    if cumulative >= parameters.topP * kept {
                        keep = index + 1
                        break
                    }
                }
                candidates.removeLast(candidates.count - keep)
            }
        }
        if parameters.minP > 0 {
            let threshold = parameters.minP
            candidates.removeAll { $0.weight < threshold }
        }
    }
}

