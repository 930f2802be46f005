import Engine
import Foundation

/// One speculation mode's pass over every prompt at one batch size, stepped a time slice at a time
/// beside the other modes' passes. The engine may have served earlier passes (`--warmup`); the pass
/// counts only its own steps.
///
/// Taking turns is what makes the modes comparable on a shared machine: another tenant's slow spell
/// of a second or two lands on every mode alike, where one mode run to the end before the next gets
/// it alone. On the bundled model a 50 ms slice holds 15-150 steps, so a step that follows another
/// engine's (whose data pushed this one's out of cache) is rare; on the 1B shape a slice is about one
/// step, whose weights stream from memory either way.
final class BenchModeRun {
    private let engine: InferenceEngine
    private(set) var outputs: [UInt64: [Int]] = [:]
    /// Time spent inside this engine's calls, its slices only.
    private(set) var seconds = 0.0
    /// The engine's counters before this pass.
    private let before: EngineStatistics

    init(engine: InferenceEngine, requests: [GenerationRequest]) {
        self.engine = engine
        before = engine.statistics
        timed {
            for request in requests { collect(engine.submit(request)) }
        }
    }

    var hasWork: Bool { engine.hasWork }

    /// Steps until `slice` seconds have passed or the work is done (at least one step).
    func advance(for slice: Double) {
        let start = monotonicSeconds()
        repeat {
            timed { collect(engine.step()) }
        } while engine.hasWork && monotonicSeconds() - start < slice
    }

    var result: BenchEngine.Run {
        BenchEngine.Run(outputs: outputs, statistics: engine.statistics.since(before), seconds: seconds)
    }

    private func timed(_ body: () -> Void) {
        let start = monotonicSeconds()
        body()
        seconds += monotonicSeconds() - start
    }

    private func collect(_ events: [EngineEvent]) {
        for case let .tokens(id, ids, _, _) in events { outputs[id, default: []] += ids }
    }

    /// Runs `runs` to the end, each for `slice` seconds in turn (`.infinity`: one after the other).
    static func interleave(_ runs: [BenchModeRun], slice: Double) {
        while runs.contains(where: \.hasWork) {
            for run in runs where run.hasWork { run.advance(for: slice) }
        }
    }
}
