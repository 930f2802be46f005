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
        let (report, rows) = try benchRun(speculate: "off,7", ["--warmup", "1"])
        // The curve the policy planned with comes with the table.
        let stepCost = try #require(report["step_cost"] as? [String: Any])
        let tokens = try #require(stepCost["tokens"] as? [Int]), ms = try #require(stepCost["ms"] as? [Double])
        #expect(!tokens.isEmpty && tokens.count == ms.count && tokens == tokens.sorted())
        #expect(ms.allSatisfy { $0 > 0 } && ms == ms.sorted(), "\(ms)")
        #expect(["scalar", "avx2", "avx512"].contains(report["kernels"] as? String), "\(report)")
        #expect(rows.count == 2)
        for row in rows { #expect(row["generated_tokens"] as? Int == 18) }
        #expect((rows[1]["mean_accepted_length"] as? Double ?? 0) > 1, "\(rows[1])")
    }

    /// Engines that take turns step by step (a 1 ms slice is shorter than any step of a debug build)
    /// share the model's buffers: each must still produce exactly what it would alone, and the drafting
    /// one must match off's greedy outputs.
    @Test func modesTakingTurnsStepByStepKeepTheirOutputs() throws {
        let rows = try benchRun(speculate: "off,7,off", ["--slice-ms", "1"]).rows
        #expect(rows.count == 3)
        for row in rows { #expect(row["generated_tokens"] as? Int == 18) }
        #expect(rows[0]["rounds_x_off"] as? [Double] == [1, 1])
        #expect((rows[1]["mean_accepted_length"] as? Double ?? 0) > 1)
    }

    /// Without a speculating mode no curve is used, and none is reported.
    @Test func anOffOnlyRunReportsNoStepCost() throws {
        let (report, rows) = try benchRun(speculate: "off", [])
        #expect(rows.count == 1)
        #expect(report["step_cost"] == nil || report["step_cost"] is NSNull, "\(report)")
    }

    @Test func theStepCostLineReadsInMillisecondsAndMicroseconds() {
        let model = StepCostModel(tokens: [1, 2, 4, 64], seconds: [0.0003, 0.000304, 0.00052, 1.0684], secondsPerTokenContext: 1.8e-7,
                                  secondsPerSequenceContext: 1.25e-7, secondsPerOmittedLogits: 4.3e-5)
        let report = StepCostReport(model)
        #expect(report.tokens == [1, 2, 4, 64])
        #expect(zip(report.ms, [0.3, 0.304, 0.52, 1068.4]).allSatisfy { abs($0 - $1) < 1e-9 })
        #expect(abs(report.us_per_omitted_logits - 43) < 1e-9)
        #expect(report.text == "step cost the budget policy starts from (tokens:ms): 1:0.3 2:0.304 4:0.52 64:1068; "
            + "+0.18 µs per token per context position, +0.125 µs per sequence per cached position")
    }

    /// The --json report of `bench engine` over 3 prompts of 6 tokens at batch 2, two rounds, and its
    /// rows, after checking what every row must hold: a successful run, outputs equal to off's, two rounds.
    private func benchRun(speculate: String, _ options: [String]) throws -> (report: [String: Any], rows: [[String: Any]]) {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-engine-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("specula-cli-cache").path
        let prompts = SpeculaProcess.fixtures.appendingPathComponent("bench/code-short.jsonl").path
        let result = try SpeculaProcess.run(
            ["bench", "engine", "--prompts", prompts, "--limit", "3", "--max-tokens", "6", "--ignore-eos", "--batch", "2",
             "--speculate", speculate, "--repeat", "2", "--json", json.path] + options,
            environment: ["SPECULA_CACHE": cache])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let rows = try #require(report["results"] as? [[String: Any]])
        for row in rows {
            #expect(row["outputs_match_off"] as? Bool == true, "\(row)")
            #expect((row["rounds_x_off"] as? [Double])?.count == 2)
        }
        return (report, rows)
    }
}
