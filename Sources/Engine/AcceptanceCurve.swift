/// How often draft nodes are accepted, as a function of the path probability the drafter gave them,
/// learned from every verification this engine runs.
///
/// The drafter's probabilities are n-gram frequencies shrunk by pseudo-counts, and the shrinking is
/// strongest where the evidence is thinnest. With the bundled model's weights (embedded in the 1B
/// shape, batch 1, code-short, a fixed budget of 7), trees whose probabilities summed to 0.16 had 0.79
/// nodes accepted on average, trees summing to 0.37 had 0.9, and trees summing to 5.2 had 5.5. The
/// budget policy took the sums at their word and decoded plainly where a draft would have paid. The
/// curve keeps, per probability bin, the nodes verified and the nodes accepted, and answers their
/// ratio, pooled with a prior at the drafter's own estimate so an empty bin changes nothing.
struct AcceptanceCurve {
    static let bins = 10
    /// Nodes of prior weight at the identity (the drafter's estimate) in every bin.
    static let priorNodes = 8.0
    /// Once a bin has seen this many nodes its history is halved, so it follows a change of workload.
    static let horizon = 4096.0

    private var verified = Array(repeating: 0.0, count: bins)
    private var accepted = Array(repeating: 0.0, count: bins)

    /// Expected acceptance of a node the drafter gave path probability `p`.
    func acceptance(_ p: Double) -> Double {
        let b = Self.bin(p)
        return (accepted[b] + Self.priorNodes * p) / (verified[b] + Self.priorNodes)
    }

    /// Records one verified tree: node i had path probability `probabilities[i]`; `path` lists the
    /// accepted nodes.
    mutating func record(probabilities: some Collection<Float>, path: [Int]) {
        for (node, probability) in probabilities.enumerated() {
            let b = Self.bin(Double(probability))
            verified[b] += 1
            if path.contains(node) { accepted[b] += 1 }
            if verified[b] >= Self.horizon {
                verified[b] /= 2
                accepted[b] /= 2
            }
        }
    }

    static func bin(_ p: Double) -> Int {
        min(max(Int(p * Double(bins)), 0), bins - 1)
    }
}
