import ArgumentParser
import Engine
import Foundation
import Kernels
import ModelFormat
import Transformer

/// `specula bench kernels`: forward-step time per token count against the machine's own roofline.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Measure step time per token count against the roofline (read bandwidth, peak FLOP/s).")

    @OptionGroup var modelOption: ModelOption
    @OptionGroup var activationsOption: ActivationsOption
    @Option(help: "Token counts per step, comma-separated.") var tokens: String = "1,2,4,8,16,32,64"
    @Option(help: "Also time a prefill step of this many tokens against sgemm on the same shapes (0 = skip).")
    var prefill: Int = 512
    @Option(help: "Cached tokens each sequence attends over before the timed step.") var context: Int = 0
    @Option(help: "Sequences the step's tokens are spread over (a decode step of d requests is d sequences of one token).")
    var sequences: Int = 1
    @Option(help: "Timed repetitions per token count (the fastest is reported: other load only adds time).") var repetitions: Int = 7
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Option(help: "Write the results as JSON to this file.") var json: String?

    struct Row: Encodable {
        let tokens: Int
        let step_seconds: Double
        let weight_bytes: Int
        let achieved_gbps: Double
        let ratio_to_bandwidth: Double
        let roofline_seconds: Double
        let ratio_to_roofline: Double
    }

    struct Report: Encodable {
        let model: String
        let read_bandwidth_gbps: Double
        let peak_gflops: Double
        let results: [Row]
        let prefill: Prefill?
    }

    struct Prefill: Encodable {
        let tokens: Int
        let step_seconds: Double
        let gflops: Double
        let sgemm_gflops: Double
        let ratio_to_sgemm: Double
    }

    func run() throws {
        let counts = try parseTokenIDs(tokens).filter { $0 > 0 }
        guard !counts.isEmpty else { throw CLIError("--tokens needs at least one positive count") }
        let path = try modelOption.resolvedPath()
        let checkpoint = try ModelCheckpoint.load(path: path)
        let pool = ComputePool(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let largest = max(counts.max()!, prefill)
        let model = try TransformerModel(checkpoint: checkpoint, pool: pool, maxTokensPerStep: largest,
                                         activationPrecision: activationsOption.activations)
        guard context >= 0, sequences >= 1 else { throw CLIError("--context must be >= 0 and --sequences >= 1") }
        guard context + counts.max()! <= model.maxContext else {
            throw CLIError("--context \(context) plus \(counts.max()!) tokens exceeds the model's context of \(model.maxContext)")
        }
        // Every sequence's context plus the step's tokens, with a cache block of slack per sequence.
        let slots = max(largest, sequences * (context + 32) + counts.max()!)
        let c = checkpoint.configuration
        let cacheBytes = slots * PagedKVCache.bytesPerToken(layers: c.numHiddenLayers, kvHeads: c.numKeyValueHeads, headDim: c.headDim)
        let cache = model.makeCache(budgetMB: max(64, cacheBytes / 1_000_000 + 16))

        let bandwidth = KernelBenchmarks.measureReadBandwidth(pool: pool)
        let peak = KernelBenchmarks.measurePeakFLOPs(pool: pool)
        let bytes = model.streamedWeightBytes
        let parameters = model.matrixParameterCount
        print("model \(path): \(bytes / 1_000_000) MB of weights per step, \(parameters / 1_000_000)M multiply-add parameters")
        print(String(format: "machine: read bandwidth %.1f GB/s, peak %.0f GFLOP/s (%d threads)", bandwidth / 1e9, peak / 1e9, pool.threadCount))
        print("tokens  step ms   GB/s  x bandwidth  roofline ms  x roofline  x 1-token")
        var rows: [Row] = []
        var single: Double?
        for n in counts {
            let seconds = StepCostModel.timeStep(model: model, cache: cache, tokens: n, context: context,
                                                 sequences: sequences, repetitions: repetitions)
            let roofline = max(Double(bytes) / bandwidth, 2 * Double(parameters) * Double(n) / peak)
            let row = Row(tokens: n, step_seconds: seconds, weight_bytes: bytes, achieved_gbps: Double(bytes) / seconds / 1e9,
                          ratio_to_bandwidth: Double(bytes) / seconds / bandwidth, roofline_seconds: roofline,
                          ratio_to_roofline: seconds / roofline)
            if n == 1 { single = seconds }
            rows.append(row)
            print(String(format: "%6d %9.3f %6.1f %12.2f %12.3f %11.2f %10@", n, seconds * 1e3, row.achieved_gbps,
                         row.ratio_to_bandwidth, roofline * 1e3, row.ratio_to_roofline,
                         single.map { String(format: "%.2f", seconds / $0) } ?? "-"))
        }
        var prefillReport: Prefill?
        if prefill > 0 {
            let seconds = StepCostModel.timeStep(model: model, cache: cache, tokens: prefill, context: 0, repetitions: 2)
            let flops = 2 * Double(parameters) * Double(prefill) / seconds
            let sgemm = sgemmFLOPs(checkpoint.configuration, tokens: prefill, pool: pool)
            prefillReport = Prefill(tokens: prefill, step_seconds: seconds, gflops: flops / 1e9, sgemm_gflops: sgemm / 1e9,
                                    ratio_to_sgemm: flops / sgemm)
            print(String(format: "prefill %d tokens: %.1f ms, %.0f GFLOP/s; sgemm on the same shapes %.0f GFLOP/s (%.2fx)",
                         prefill, seconds * 1e3, flops / 1e9, sgemm / 1e9, flops / sgemm))
        }
        if let json {
            let report = Report(model: path, read_bandwidth_gbps: bandwidth / 1e9, peak_gflops: peak / 1e9,
                                results: rows, prefill: prefillReport)
            try Data(try JSONOutput.encode(report).utf8).write(to: URL(fileURLWithPath: json))
        }
    }

    /// FLOP/s of OpenBLAS sgemm (its own threads, f32 weights) over one layer's matrix shapes at `tokens` rows.
    private func sgemmFLOPs(_ c: ModelConfiguration, tokens: Int, pool: ComputePool) -> Double {
        let shapes = [(c.numAttentionHeads * c.headDim, c.hiddenSize), (c.numKeyValueHeads * c.headDim, c.hiddenSize),
                      (c.numKeyValueHeads * c.headDim, c.hiddenSize), (c.hiddenSize, c.numAttentionHeads * c.headDim),
                      (c.intermediateSize, c.hiddenSize), (c.intermediateSize, c.hiddenSize), (c.hiddenSize, c.intermediateSize)]
        var seconds = 0.0
        var flops = 0.0
        for (rows, columns) in shapes {
            seconds += KernelBenchmarks.measureSgemm(rows: rows, columns: columns, tokens: tokens, threads: pool.threadCount)
            flops += 2 * Double(rows * columns * tokens)
        }
        return flops / seconds
    }
}
