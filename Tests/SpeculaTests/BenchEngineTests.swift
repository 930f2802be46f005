@testable import specula
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

    /// Engines that take turns step by step (a 1 ms slice is shorter than any step of a debug build)
    /// share the model's buffers: each must still produce exactly what it would alone, and the drafting
    /// one must match off's greedy outputs.
    @Test func modesTakingTurnsStepByStepKeepTheirOutputs() throws {
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-engine-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("specula-cli-cache").path
        let prompts = SpeculaProcess.fixtures.appendingPathComponent("bench/code-short.jsonl").path
        let result = try SpeculaProcess.run(
            ["bench", "engine", "--prompts", prompts, "--limit", "3", "--max-tokens", "6", "--ignore-eos", "--batch", "2",
             "--speculate", "off,7,off", "--repeat", "2", "--slice-ms", "1", "--json", json.path],
            environment: ["SPECULA_CACHE": cache])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
        let rows = try #require(report?["results"] as? [[String: Any]])
        #expect(rows.count == 3)
        for row in rows {
            #expect(row["outputs_match_off"] as? Bool == true, "\(row)")
            #expect(row["generated_tokens"] as? Int == 18)
            #expect((row["rounds_x_off"] as? [Double])?.count == 2)
        }
        #expect(rows[0]["rounds_x_off"] as? [Double] == [1, 1])
        #expect((rows[1]["mean_accepted_length"] as? Double ?? 0) > 1)
    }
}
