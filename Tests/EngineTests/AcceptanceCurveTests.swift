@testable import Engine
import Testing

@Suite struct AcceptanceCurveTests {
    @Test func withoutHistoryTheDraftersEstimateStands() {
        let curve = AcceptanceCurve()
        for p in [0.0, 0.05, 0.37, 0.9, 1.0] { #expect(abs(curve.acceptance(p) - p) < 1e-12) }
    }

    /// Thin evidence: the drafter says 0.15, yet such nodes are accepted 3 times in 5.
    @Test func aBinLearnsWhatItsNodesActuallyDo() {
        var curve = AcceptanceCurve()
        for round in 0..<200 {
            // One node at 0.15, accepted unless round % 5 >= 3; one at 0.95, always accepted.
            curve.record(probabilities: [0.15, 0.95] as [Float], path: round % 5 < 3 ? [0, 1] : [1])
        }
        #expect(abs(curve.acceptance(0.15) - 0.6) < 0.02)
        #expect(abs(curve.acceptance(0.12) - curve.acceptance(0.15)) < 0.02)
        #expect(curve.acceptance(0.95) > 0.98)
        // Bins nothing fell in keep the estimate.
        #expect(abs(curve.acceptance(0.55) - 0.55) < 1e-12)
    }

    @Test func oldHistoryFadesSoTheCurveFollowsTheWorkload() {
        var curve = AcceptanceCurve()
        for _ in 0..<Int(AcceptanceCurve.horizon) { curve.record(probabilities: [0.5] as [Float], path: [0]) }
        #expect(curve.acceptance(0.5) > 0.95)
        for _ in 0..<Int(4 * AcceptanceCurve.horizon) { curve.record(probabilities: [0.5] as [Float], path: []) }
        #expect(curve.acceptance(0.5) < 0.2)
    }
}
