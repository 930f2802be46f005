import Engine

/// The step-cost curve the budget policy starts from, as `bench engine` reports it: the table of a
/// speed-up is read against the costs that decided it (measured at a worker's first start on this
/// machine and cached, so two runs can plan with the same curve while the machine runs differently).
struct StepCostReport: Encodable, Equatable {
    /// Tokens per step, ascending, and the step's milliseconds at short context.
    let tokens: [Int]
    let ms: [Double]
    /// Extra microseconds per new token per context position it attends over.
    let us_per_token_context: Double
    /// Extra microseconds per sequence in the step per cached position of it.
    let us_per_sequence_context: Double
    /// Microseconds a step saves per token that needs no logits row.
    let us_per_omitted_logits: Double

    init(_ model: StepCostModel) {
        tokens = model.tokens
        ms = model.seconds.map { $0 * 1e3 }
        us_per_token_context = model.secondsPerTokenContext * 1e6
        us_per_sequence_context = model.secondsPerSequenceContext * 1e6
        us_per_omitted_logits = model.secondsPerOmittedLogits * 1e6
    }

    /// One line: "tokens:ms" pairs, then the context terms.
    var text: String {
        let points = zip(tokens, ms).map { "\($0):\(Self.digits($1))" }.joined(separator: " ")
        return "step cost the budget policy starts from (tokens:ms): \(points); "
            + "+\(Self.digits(us_per_token_context)) µs per token per context position, "
            + "+\(Self.digits(us_per_sequence_context)) µs per sequence per cached position"
    }

    /// 3 significant digits, and whole numbers from 100 on (a 1B model's 1068 ms, not 1.07e+03).
    private static func digits(_ value: Double) -> String { String(format: value >= 100 ? "%.0f" : "%.3g", value) }
}
