import Speculation

/// What the engine needs to speculate: a drafter (request statistics, optionally the corpus datastore)
/// and the machine's step-cost curve for the budget policy.
public struct SpeculationSetup {
    public var drafter: Drafter
    public var costModel: StepCostModel
    /// Most draft tokens a request verifies per step under `auto`.
    public var maxDraftsPerRequest: Int
    /// Whether `auto` stops drafting at batch sizes where steps with drafts are measured slower than
    /// steps without (`RealizedSpeedGuard`). Tests that check speculation's correctness, not its
    /// economics, turn it off so that `auto` always drafts.
    public var guardsRealizedSpeed: Bool

    public init(drafter: Drafter, costModel: StepCostModel, maxDraftsPerRequest: Int = 24, guardsRealizedSpeed: Bool = true) {
        self.drafter = drafter
        self.costModel = costModel
        self.maxDraftsPerRequest = maxDraftsPerRequest
        self.guardsRealizedSpeed = guardsRealizedSpeed
    }
}

/// One decoding request's drafts for this step.
struct StepDraft {
    let request: UInt64
    /// The drafter's tree (best-first order: every prefix is a tree).
    var tree: DraftTree
    /// Nodes of `tree` verified this step (a prefix).
    var used: Int
    /// Expected acceptance of each node (its path probability through the engine's acceptance curve).
    var gains: [Double]
    /// Tokens the request's context holds (for the attention term of the cost).
    let context: Int
    /// Seconds its drafting took: a cost its drafts must earn back.
    let draftSeconds: Double
}
