/// Verification of a draft tree against the target model's outputs at the root and at every node.
/// Both rules are lossless: greedy reproduces plain greedy decoding token for token, sampling emits
/// tokens with exactly the target distribution.
public enum Acceptance {
    /// Greedy: from the root, follow the child whose token equals the model's argmax at the current
    /// position; stop where no child matches. Returns the accepted nodes (a root-to-node path, in
    /// order) and the bonus token: the argmax after the last accepted node, which every step emits.
    public static func greedy(tree: DraftTree, argmaxAtRoot: Int32,
                              argmaxAtNode: (Int) -> Int32) -> (path: [Int], bonus: Int32) {
        var path: [Int] = []
        var node = -1
        var target = argmaxAtRoot
        while let next = tree.child(of: node, token: target) {
            path.append(next)
            node = next
            target = argmaxAtNode(next)
        }
        return (path, target)
    }

    /// Exact sampling with point-mass drafts (multi-candidate rejection). At a position whose target
    /// distribution is p, the children are tried in order: child c is accepted with probability
    /// p(c) / (remaining mass); a rejected child's probability is set to 0 and the rest renormalised;
    /// when every child is rejected the bonus token is drawn from what is left. Each emitted token
    /// therefore has exactly the distribution p, whatever the tree holds.
    ///
    /// `distribution(node)` gives the target probabilities (penalties, temperature and filters already
    /// applied; need not be normalised) at `node`, -1 meaning the root. Returns the accepted nodes and
    /// the bonus token.
    public static func sample(tree: DraftTree, distribution: (Int) -> [Float],
                              using random: inout some RandomNumberGenerator) -> (path: [Int], bonus: Int32) {
        var path: [Int] = []
        var node = -1
        var residual: [Double] = []
        while true {
            let p = distribution(node)
            residual.removeAll(keepingCapacity: true)
            var mass = 0.0
            for x in p {
                let v = x > 0 && x.isFinite ? Double(x) : 0
                residual.append(v)
                mass += v
            }
            guard mass > 0 else { return (path, 0) }  // an all-zero distribution: nothing to sample
            var accepted: Int? = nil
            for c in tree.children(of: node) {
                let t = Int(tree.tokens[c])
                guard t >= 0, t < residual.count, residual[t] > 0 else { continue }
                if Double.random(in: 0..<1, using: &random) * mass < residual[t] {
                    accepted = c
                    break
                }
                mass -= residual[t]
                residual[t] = 0
            }
            if let c = accepted {
                path.append(c)
                node = c
                continue
            }
            return (path, draw(from: residual, mass: mass, using: &random))
        }
    }

    /// A token drawn from unnormalised probabilities `weights` whose sum is about `mass`.
    private static func draw(from weights: [Double], mass: Double,
                             using random: inout some RandomNumberGenerator) -> Int32 {
        let target = Double.random(in: 0..<1, using: &random) * max(mass, 0)
        var cumulative = 0.0
        var lastPositive = 0
        for (i, w) in weights.enumerated() where w > 0 {
            cumulative += w
            lastPositive = i
            if cumulative > target { return Int32(i) }
        }
        return Int32(lastPositive)  // rounding left the target just past the end
    }
}
