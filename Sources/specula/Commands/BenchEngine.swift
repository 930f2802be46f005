import ArgumentParser
import Engine
import Foundation
import Kernels
import ServeBenchmark
import Tokenization
import Transformer

/// `specula bench engine`: tokens per second of the engine at several batch sizes, speculation off vs on,
/// in one run, with greedy outputs compared against the `off` run.
struct BenchEngine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Engine throughput per batch size and speculation mode, in one run.",
        discussion: """
            tok/s counts every generated token over the whole run (prefill included). decode tok/s counts \
            the tokens emitted by steps that carried no prompt tokens, over those steps' time: the \
            decoding speed that speculation changes, apart from prefill, which costs the same either way. \
            "x off" is the ratio of decode tok/s to the off run's at the same batch size (fastest run of \
            each with --repeat). "paired" is the median, over the --repeat rounds, of each round's ratio \
            to the off run beside it. The modes of one batch size run side by side, taking turns of \
            --slice-ms of steps, so that on a shared machine another tenant's slow spell falls on every \
            mode alike, and the mode that goes first rotates from round to round; seconds and tok/s \
            count each mode's own turns. Each round runs every mode through a fresh engine, which \
            learns its step costs and when drafts pay from scratch; with --warmup N each mode's engine \
            first runs the prompts N times unmeasured and then serves every round, as a worker that \
            has been serving for a while would.
            """)

    @OptionGroup var modelOption: ModelOption
    @OptionGroup var activationsOption: ActivationsOption
    @Option(help: "Prompts, JSONL: {\"id\", \"prompt\", \"max_tokens\"} per line.") var prompts: String
    @Option(help: "Use the first N prompts.") var limit: Int?
    @Option(help: "Override every prompt's max_tokens.") var maxTokens: Int?
    @Option(help: "Batch sizes (requests in flight), comma-separated.") var batch: String = "1,4,16"
    @Option(help: "Speculation modes, comma-separated: off, auto, or a draft count.") var speculate: String = "off,auto"
    @Option(help: "SSSD datastore file (default: the bundled model's, built on first use).") var datastore: String?
    @Flag(help: "Generate exactly max_tokens per prompt, ignoring EOS.") var ignoreEos = false
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Option(help: "KV cache budget in MB (each mode has its own).") var kvCacheMb: Int = 1024
    @Option(help: "Tokens per step.") var maxTokensPerStep: Int = 256
    @Option(help: "Rounds per batch size, every mode once in each; each row reports its mode's fastest round. Other load on a shared machine only ever slows a run down.")
    var `repeat`: Int = 1
    @Option(help: "Milliseconds of steps each mode runs before the next mode's turn (0: each mode runs to the end in turn).")
    var sliceMs: Double = 50
    @Option(help: "Unmeasured passes over the prompts before the rounds; the modes' engines then persist through every round (0: a fresh engine per round).")
    var warmup: Int = 0
    @Option(help: "Write the results as JSON to this file.") var json: String?

    struct Row: Encodable {
        let batch: Int
        let speculate: SpeculateLabel
        let prompts: Int
        let generated_tokens: Int
        let seconds: Double
        let tokens_per_second: Double
        let decode_tokens_per_second: Double
        let mean_accepted_length: Double
        let draft_ms_per_step: Double
        let outputs_match_off: Bool
        let preemptions: Int
        /// The median over rounds of the decode-rate ratio to the same round's off run.
        let paired_x_off: Double?
        /// Each round's decode-rate ratio to that round's off run, in round order.
        let rounds_x_off: [Double]?
    }

    /// "off" | "auto" | Int, as INTERFACES.md has it.
    enum SpeculateLabel: Encodable {
        case text(String)
        case count(Int)
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .count(let count): try container.encode(count)
            }
        }
    }

    struct Report: Encodable {
        let model: String
        let machine: String
        /// The matrix kernels this run used (see `MachineDescription.kernels`).
        let kernels: String
        /// The curve the budget policy started from; nil when no mode speculates.
        let step_cost: StepCostReport?
        let results: [Row]
    }

    func run() throws {
        guard sliceMs >= 0 else { throw CLIError("--slice-ms must be 0 or more") }
        guard warmup >= 0 else { throw CLIError("--warmup must be 0 or more") }
        let batchSizes = try parseTokenIDs(batch).filter { $0 > 0 }
        let modes = try speculate.split(separator: ",").map { try SpeculationMode(parsing: String($0)) }
        guard !batchSizes.isEmpty, !modes.isEmpty else { throw CLIError("give at least one --batch and one --speculate") }
        let path = try modelOption.resolvedPath()
        let loaded = try LoadedModel(path: path, threads: threads, maxTokensPerStep: maxTokensPerStep, kvCacheMB: kvCacheMb,
                                     activations: activationsOption.activations)
        let promptSet = try BenchPrompts.load(prompts, limit: limit, tokenizer: loaded.tokenizer)
        let setup = modes.allSatisfy({ $0 == .off }) ? nil : try SpeculationAssets.setup(for: loaded, datastore: datastore) {
            FileHandleOutput.standardError.write($0 + "\n")
        }
        let kernels = MachineDescription.kernels(activations: activationsOption.activations)
        let stepCost = setup.map { StepCostReport($0.costModel) }
        print("model \(path), \(promptSet.count) prompts from \(prompts), machine: \(MachineDescription.current), kernels: \(kernels)")
        if let stepCost { print(stepCost.text) }
        print("batch  speculate  tokens  seconds   tok/s  decode tok/s  x off  paired  accepted len  draft ms/step  match off")
        // One cache per mode, kept for the whole run: the modes' engines live side by side, and a cache
        // mapped afresh for each round would make its first steps pay the page faults.
        let caches = [loaded.cache] + (1..<modes.count).map { _ in loaded.model.makeCache(budgetMB: kvCacheMb) }
        var rows: [Row] = []
        for batchSize in batchSizes {
            // Fastest run per mode; greedy outputs must equal the off run's in every round.
            var best: [Run?] = Array(repeating: nil, count: modes.count)
            var rates: [[Double]] = Array(repeating: [], count: modes.count)
            var matches = Array(repeating: true, count: modes.count)
            var offOutputs: [UInt64: [Int]]?
            // With --warmup, one engine per mode serves the warm-up passes and then every round.
            let warmEngines = warmup > 0 ? makeEngines(loaded, setup: setup, batchSize: batchSize, modes: modes, caches: caches) : nil
            for _ in 0..<warmup {
                _ = measure(warmEngines!, prompts: promptSet, modes: modes)
            }
            for index in 0..<max(1, `repeat`) {
                // The modes take the first turn (and the first cache) in rotation, round by round. With a
                // fixed order, two off runs side by side (`--speculate off,off`) read the second one
                // 0.5-1% slower on average over 33 rounds: a bias that fell on auto in every round.
                let order = (0..<modes.count).map { (index + $0) % modes.count }
                let engines = warmEngines.map { engines in order.map { engines[$0] } }
                    ?? makeEngines(loaded, setup: setup, batchSize: batchSize, modes: order.map { modes[$0] }, caches: caches)
                let turns = measure(engines, prompts: promptSet, modes: order.map { modes[$0] })
                let round = modes.indices.map { m in turns[order.firstIndex(of: m)!] }
                for (m, run) in round.enumerated() {
                    if modes[m] == .off, offOutputs == nil { offOutputs = run.outputs }
                    matches[m] = matches[m] && (offOutputs.map { $0 == run.outputs } ?? true)
                    if run.decodeRate > best[m]?.decodeRate ?? -1 { best[m] = run }
                    rates[m].append(run.decodeRate)
                }
            }
            let offIndex = modes.firstIndex(of: .off)
            let offRate = offIndex.flatMap { best[$0]?.decodeRate }
            for (m, mode) in modes.enumerated() {
                guard let run = best[m] else { continue }
                let stats = run.statistics
                let row = Row(
                    batch: batchSize, speculate: Self.label(mode), prompts: promptSet.count, generated_tokens: run.generated,
                    seconds: run.seconds, tokens_per_second: Double(run.generated) / run.seconds,
                    decode_tokens_per_second: run.decodeRate, mean_accepted_length: stats.speculation.meanAcceptedLength,
                    draft_ms_per_step: stats.steps == 0 ? 0 : stats.draftSeconds * 1e3 / Double(stats.steps),
                    outputs_match_off: matches[m], preemptions: stats.preemptions,
                    paired_x_off: offIndex.flatMap { Self.pairedMedian(rates[m], over: rates[$0]) },
                    rounds_x_off: offIndex.map { Self.ratios(rates[m], over: rates[$0]) })
                rows.append(row)
                let ratio = offRate.map { String(format: "%.2f", run.decodeRate / $0) } ?? "-"
                print(pad(batchSize, 5) + pad(Self.text(mode), 11) + pad(run.generated, 8)
                      + pad(String(format: "%.2f", run.seconds), 9) + pad(String(format: "%.0f", row.tokens_per_second), 8)
                      + pad(String(format: "%.0f", run.decodeRate), 14) + pad(ratio, 7)
                      + pad(row.paired_x_off.map { String(format: "%.2f", $0) } ?? "-", 8)
                      + pad(String(format: "%.2f", row.mean_accepted_length), 14)
                      + pad(String(format: "%.3f", row.draft_ms_per_step), 15) + pad(row.outputs_match_off ? "yes" : "NO", 11))
            }
        }
        if let json {
            let report = Report(model: path, machine: MachineDescription.current, kernels: kernels, step_cost: stepCost,
                                results: rows)
            try Data(try JSONOutput.encode(report).utf8).write(to: URL(fileURLWithPath: json))
        }
    }

    /// One mode's pass over every prompt.
    struct Run {
        let outputs: [UInt64: [Int]]
        let statistics: EngineStatistics
        let seconds: Double
        var generated: Int { outputs.values.reduce(0) { $0 + $1.count } }
        var decodeRate: Double { Double(statistics.decodeTokens) / max(statistics.decodeStepSeconds, 1e-9) }
    }

    /// One engine per mode, each with its own cache.
    func makeEngines(_ loaded: LoadedModel, setup: SpeculationSetup?, batchSize: Int, modes: [SpeculationMode],
                     caches: [PagedKVCache]) -> [InferenceEngine] {
        zip(modes, caches).map { mode, cache in
            loaded.makeEngine(configuration: .init(maxTokensPerStep: maxTokensPerStep, maxRunning: batchSize),
                              speculation: mode == .off ? nil : setup, cache: cache)
        }
    }

    /// One round: every mode through its engine over all prompts, the modes taking turns.
    func measure(_ engines: [InferenceEngine], prompts: [BenchPrompts], modes: [SpeculationMode]) -> [Run] {
        let runs = zip(modes, engines).map { mode, engine in
            let requests = prompts.enumerated().map { index, prompt in
                GenerationRequest(id: UInt64(index), promptIDs: prompt.ids, maxTokens: maxTokens ?? prompt.maxTokens,
                                  stopAtEOS: !ignoreEos, speculation: mode)
            }
            return BenchModeRun(engine: engine, requests: requests)
        }
        BenchModeRun.interleave(runs, slice: sliceMs > 0 ? sliceMs / 1000 : .infinity)
        return runs.map(\.result)
    }

    /// The median of `rates[i] / offRates[i]` over rounds i, or nil without rounds.
    static func pairedMedian(_ rates: [Double], over offRates: [Double]) -> Double? {
        let sorted = ratios(rates, over: offRates).sorted()
        return sorted.isEmpty ? nil : LatencySummary.percentile(sorted, 50)
    }

    /// `rates[i] / offRates[i]` for every round i with an off rate.
    static func ratios(_ rates: [Double], over offRates: [Double]) -> [Double] {
        zip(rates, offRates).compactMap { rate, off in off > 0 ? rate / off : nil }
    }

    static func label(_ mode: SpeculationMode) -> SpeculateLabel {
        switch mode {
        case .off: return .text("off")
        case .auto: return .text("auto")
        case .fixed(let count): return .count(count)
        }
    }

    static func text(_ mode: SpeculationMode) -> String {
        switch mode {
        case .off: return "off"
        case .auto: return "auto"
        case .fixed(let count): return String(count)
        }
    }
}

/// Benchmark prompt files: `{"id", "prompt", "max_tokens"}` per line.
struct BenchPrompts {
    let id: String
    let ids: [Int]
    let maxTokens: Int

    static func load(_ path: String, limit: Int?, tokenizer: Tokenizer) throws -> [BenchPrompts] {
        let file: PromptFile
        do {
            file = try PromptFile(path: path, limit: limit)
        } catch {
            throw CLIError(error.description)
        }
        return file.prompts.map { BenchPrompts(id: $0.id, ids: tokenizer.promptIDs($0.text), maxTokens: $0.maxTokens) }
    }
}

/// "AMD EPYC, 2 cores" from /proc/cpuinfo.
enum MachineDescription {
    static var current: String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }

    /// The matrix kernels this CPU runs: "avx2", "avx512", or "avx512 + bf16 dot products" when bf16
    /// activations were asked for and the CPU has AVX512-BF16 (bf16 weights only); the speed-ups of one
    /// model differ most between these.
    static func kernels(activations: ActivationPrecision) -> String {
        let isa = "\(KernelISA.detected)"
        return activations == .bf16 && ActivationPrecision.bf16Available ? isa + " + bf16 dot products" : isa
    }
}

/// Right-aligns a value in a column of `width` characters.
func pad(_ value: Any, _ width: Int) -> String {
    let text = "\(value)"
    return String(repeating: " ", count: max(0, width - text.count)) + text
}
