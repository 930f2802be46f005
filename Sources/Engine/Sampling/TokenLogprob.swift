#if canImport(Glibc)
import Glibc
#endif

/// One alternative at a position: a token id and its log-probability.
public struct LogprobCandidate: Sendable, Equatable {
    public var token: Int
    public var logprob: Float

    public init(token: Int, logprob: Float) {
        self.token = token
        self.logprob = logprob
    }
}

/// The log-probability of an emitted token under the model's own distribution at its position
/// (log-softmax of the raw logits: before penalties, bias, temperature and the top-k/p filters, as vLLM's
/// default "raw logprobs"), and the most likely tokens there.
public struct TokenLogprob: Sendable, Equatable {
    public var logprob: Float
    /// The `n` most likely tokens, most likely first (ties: lower id first).
    public var top: [LogprobCandidate]

    public init(logprob: Float, top: [LogprobCandidate]) {
        self.logprob = logprob
        self.top = top
    }

    /// Most alternatives a request may ask for (OpenAI's chat limit; the wire's too).
    public static let maxAlternatives = 20
    /// What a log-probability too small for a `Float` (or from a non-finite logit) is reported as,
    /// as OpenAI and vLLM do, so every value stays a finite JSON number.
    public static let floor: Float = -9999

    /// Logprobs of `token` and the `alternatives` most likely tokens from one logits row: one pass for
    /// the maximum, one for the log-sum-exp (in Double), one keeping the best `alternatives` in a small
    /// sorted buffer (a partial selection; no full sort of the vocabulary).
    public init(row: UnsafeBufferPointer<Float>, token: Int, alternatives: Int) {
        var maximum = -Float.infinity
        for value in row where value > maximum { maximum = value }
        var sum = 0.0
        for value in row { sum += exp(Double(value - maximum)) }
        let logSumExp = Double(maximum) + log(sum)
        func logprob(_ value: Float) -> Float {
            let result = Float(Double(value) - logSumExp)
            return result.isFinite ? max(result, Self.floor) : Self.floor
        }
        self.logprob = token >= 0 && token < row.count ? logprob(row[token]) : Self.floor
        self.top = Self.best(row, count: min(alternatives, row.count)).map {
            LogprobCandidate(token: $0, logprob: logprob(row[$0]))
        }
    }

    /// Indices of the `count` largest values, largest first; the lower index first on ties.
    static func best(_ row: UnsafeBufferPointer<Float>, count: Int) -> [Int] {
        guard count > 0 else { return [] }
        var kept: [Int] = []
        kept.reserveCapacity(count + 1)
        for index in 0..<row.count {
            let value = row[index]
            if kept.count == count, !(value > row[kept[count - 1]]) { continue }
            // Insert after every kept value at least as large (stable: earlier indices win ties).
            var slot = kept.count
            while slot > 0, value > row[kept[slot - 1]] { slot -= 1 }
            kept.insert(index, at: slot)
            if kept.count > count { kept.removeLast() }
        }
        return kept
    }
}
