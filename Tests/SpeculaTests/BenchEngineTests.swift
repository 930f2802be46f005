@testable import specula
@testable import Engine
import Foundation
import Testing

@Suite struct BenchEngineTests {
    /// Each round's ratio is taken against the off run beside it, so a round in which the machine ran
    /// slow for both modes counts like any other, and one odd round moves nothing.
    @Test func thePairedRatioIsTheMedianOfEachRoundsRatio() {
        let off = [100.0, 60, 100, 100, 100]
        let auto = [110.0, 66, 150, 105, 90]
        #expect(BenchEngine.pairedMedian(auto, over: off) == 1.1)
        #expect(abs(BenchEngine.pairedMedian([120, 90], over: [100, 100])! - 1.05) < 1e-12)
        #expect(BenchEngine.pairedMedian([], over: []) == nil)
        #expect(BenchEngine.pairedMedian([50], over: [0]) == nil)
        #expect(BenchEngine.ratios([110, 50], over: [100, 0]) == [1.1])
    }

    @Test func aNegativeSliceIsRefusedBeforeAnythingLoads() throws {
        let result = try SpeculaProcess.run(["bench", "engine", "--prompts", "/nonexistent.jsonl", "--slice-ms=-1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--slice-ms must be 0 or more"), "\(result.stderr)")
    }

    @Test func aNegativeWarmupIsRefusedBeforeAnythingLoads() throws {
        let result = try SpeculaProcess.run(["bench", "engine", "--prompts", "/nonexistent.jsonl", "--warmup=-1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--warmup must be 0 or more"), "\(result.stderr)")
    }

    /// A pass on an engine that served earlier passes reports only its own steps.
    @Test func aPassCountsOnlyItsOwnSteps() {
        func statistics(steps: Int, tokens: Int, seconds: Double, drafting: Double, accepted: Int,
                        perPosition: [Int]) -> EngineStatistics {
            var statistics = EngineStatistics(steps: steps, decodeStepSeconds: seconds, decodeTokens: tokens,
                                              draftSeconds: drafting)
            statistics.speculation.steps = steps
            statistics.speculation.acceptedTokens = accepted
            statistics.speculation.acceptedPerPosition = perPosition
            return statistics
        }
        let earlier = statistics(steps: 10, tokens: 40, seconds: 1, drafting: 0.25, accepted: 6, perPosition: [4, 2])
        let now = statistics(steps: 25, tokens: 100, seconds: 2.5, drafting: 0.75, accepted: 21, perPosition: [10, 6, 5])
        let pass = now.since(earlier)
        #expect(pass.steps == 15 && pass.decodeTokens == 60 && pass.decodeStepSeconds == 1.5 && pass.draftSeconds == 0.5)
        #expect(pass.speculation.steps == 15 && pass.speculation.acceptedTokens == 15)
        #expect(pass.speculation.acceptedPerPosition == [6, 4, 5])
        #expect(pass.speculation.meanAcceptedLength == 2)
    }

    /// With --warmup the modes' engines serve a pass unmeasured and then every round: each round
    /// reports one pass's tokens, and the drafting mode still matches off.
    @Test func warmEnginesReportEachRoundAlone() throws {
        let rows = try benchRows(speculate: "off,7", ["--warmup", "1"])
        #expect(rows.count == 2)
        for row in rows { #expect(row["generated_tokens"] as? Int == 18) }
        #expect((rows[1]["mean_accepted_length"] as? Double ?? 0) > 1, "\(rows[1])")
    }

    /// Engines that take turns step by step (a 1 ms slice is shorter than any step of a debug build)
    /// share the model's buffers: each must still produce exactly what it would alone, and the drafting
    /// one must match off's greedy outputs.
    @Test func modesTakingTurnsStepByStepKeepTheirOutputs() throws {
        let rows = try benchRows(speculate: "off,7,off", ["--slice-ms", "1"])
        #expect(rows.count == 3)
        for row in rows { #expect(row["generated_tokens"] as? Int == 18) }
        #expect(rows[0]["rounds_x_off"] as? [Double] == [1, 1])
        #expect((rows[1]["mean_accepted_length"] as? Double ?? 0) > 1)
    }

    /// The --json rows of `bench engine` over 3 prompts of 6 tokens at batch 2, two rounds, after
    /// checking what every row must hold: a successful run, outputs equal to off's, two rounds.
    private func benchRows(speculate: String, _ options: [String]) throws -> [[String: Any]] {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-engine-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("specula-cli-cache").path
        let prompts = SpeculaProcess.fixtures.appendingPathComponent("bench/code-short.jsonl").path
        let result = try SpeculaProcess.run(
            ["bench", "engine", "--prompts", prompts, "--limit", "3", "--max-tokens", "6", "--ignore-eos", "--batch", "2",
             "--speculate", speculate, "--repeat", "2", "--json", json.path] + options,
            environment: ["SPECULA_CACHE": cache])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
        let rows = try #require(report?["results"] as? [[String: Any]])
        for row in rows {
            #expect(row["outputs_match_off"] as? Bool == true, "\(row)")
            #expect((row["rounds_x_off"] as? [Double])?.count == 2)
        }
        return rows
    }
}
