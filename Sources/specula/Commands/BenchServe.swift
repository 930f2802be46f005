import ArgumentParser
import Foundation
import ServeBenchmark
import Synchronization

/// `specula bench serve`: the serving benchmark against a running router (or any OpenAI-compatible
/// server), with `vllm bench serve`'s metrics.
struct BenchServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serving benchmark: stream /v1/completions at a running server, report vLLM bench serve metrics.",
        discussion: """
        Each prompt of the file is sent once as a streaming completion (stream_options.include_usage), over \
        HTTP/1.1 keep-alive connections. --concurrency N keeps N requests in flight (closed loop; default 1); \
        --rate R sends Poisson arrivals at R requests/s whatever the server does (open loop, --seed fixes them).

        Metrics, as vLLM defines them: TTFT = send to first streamed chunk; TPOT = (E2E - TTFT) / (output \
        tokens - 1) per request; ITL = gaps between consecutive chunks, pooled (a chunk may carry several \
        tokens when accepted drafts are coalesced: see 'SSE chunks per output token'; unlike vLLM, a chunk \
        that only closes the choice is not counted); E2E = send to end of stream. Output tokens are the server's usage counts. Failed requests (HTTP errors, error events, \
        broken streams) are counted and listed in the JSON, not in the latencies.
        """)

    @Option(help: "Server base URL, http://HOST:PORT.") var url: String
    @Option(help: "Prompts, JSONL: {\"id\", \"prompt\", \"max_tokens\"} per line.") var prompts: String
    @Option(help: "Requests in flight (closed loop). Default 1 unless --rate is given.") var concurrency: Int?
    @Option(help: "Poisson arrivals at this many requests per second (open loop).") var rate: Double?
    @Option(help: "Seed of the Poisson arrivals.") var seed: UInt64 = 0
    @Option(help: "Use the first N prompts.") var limit: Int?
    @Option(help: "Override every prompt's max_tokens.") var maxTokens: Int?
    @Option(help: "Model name (default: the first /v1/models lists).") var model: String?
    @Option(help: "Specula's speculation field per request: auto or off (default: the server's choice).") var speculation: String?
    @Option(help: "Sampling temperature.") var temperature: Double = 0
    @Flag(help: "Send ignore_eos: true (generate max_tokens tokens, if the server supports it).") var ignoreEos = false
    @Option(help: "API key (default: $OPENAI_API_KEY).") var apiKey: String?
    @Option(help: "Give a request up after this many seconds.") var timeout: Int = 600
    @Option(help: "Write the results as JSON (vllm bench serve keys) to this file.") var json: String?
    @Option(help: "Draw throughput over time and latency distributions into this SVG file.") var plot: String?

    func run() async throws {
        let options = try benchmarkOptions()
        FileHandleOutput.standardError.write("bench serve: \(options.prompts.count) prompts from \(prompts) to \(options.target), \(options.load)\n")
        let progressLine = ProgressLine()
        let result: ServeBenchmark.Result
        do {
            result = try await ServeBenchmark.run(options) { progressLine.show($0) }
        } catch let error as BenchError {
            throw CLIError(error.description)
        }
        progressLine.finish()
        let summary = result.summary
        print("model \(result.model) at \(options.target), \(options.load), speculation \(speculation ?? "server default")")
        print(summary.table, terminator: "")
        let report = ServeReport(url: options.target.description, model: result.model, promptsFile: prompts, load: options.load,
                                 speculation: speculation, result: result)
        if let json { try report.jsonData().write(to: URL(fileURLWithPath: json)) }
        if let plot {
            let title = "specula bench serve: \(result.model), \(options.load), speculation \(speculation ?? "server default")"
            try Data(ServePlot.svg(result, title: title).utf8).write(to: URL(fileURLWithPath: plot))
        }
        if summary.completed == 0 {
            let first = result.records.compactMap(\.error).first ?? "unknown"
            throw CLIError("every request failed; the first: \(first)")
        }
    }

    private func benchmarkOptions() throws -> ServeBenchmark.Options {
        if concurrency != nil && rate != nil { throw CLIError("give --concurrency or --rate, not both") }
        if let concurrency, concurrency < 1 { throw CLIError("--concurrency \(concurrency) must be >= 1") }
        if let rate, !(rate > 0 && rate.isFinite) { throw CLIError("--rate \(rate) must be a positive number of requests per second") }
        if let limit, limit < 1 { throw CLIError("--limit \(limit) must be >= 1") }
        if let maxTokens, maxTokens < 1 { throw CLIError("--max-tokens \(maxTokens) must be >= 1") }
        if let speculation, !["auto", "off"].contains(speculation) { throw CLIError("--speculation '\(speculation)' is not one of auto, off") }
        guard timeout > 0 else { throw CLIError("--timeout \(timeout) must be > 0") }
        do {
            let file = try PromptFile(path: prompts, limit: limit)
            let load: LoadShape = rate.map { .rate($0, seed: seed) } ?? .concurrency(concurrency ?? 1)
            var options = ServeBenchmark.Options(target: try BenchTarget(url: url), model: model, prompts: file.prompts, load: load)
            options.maxTokens = maxTokens
            options.temperature = temperature
            options.speculation = speculation
            options.ignoreEOS = ignoreEos
            options.apiKey = apiKey ?? ProcessInfo.processInfo.environment["OPENAI_API_KEY"]
            options.timeout = .seconds(Int64(timeout))
            return options
        } catch let error as PromptFileError {
            throw CLIError(error.description)
        } catch let error as BenchError {
            throw CLIError(error.description)
        }
    }
}

/// The live line on stderr: requests done, failures, throughput so far. Rewritten in place on a
/// terminal; a plain line every few seconds otherwise (logs).
final class ProgressLine: Sendable {
    private let terminal = isatty(2) == 1
    /// When a plain line was last printed, and whether the final one was.
    private let printed = Mutex((elapsed: 0.0, final: false))

    func show(_ progress: ServeBenchmark.Progress) {
        let seconds = max(progress.elapsed, 1e-9)
        let text = String(format: "[%d/%d done, %d in flight, %d failed] %.2f req/s, %.0f output tok/s, %.1f s",
                          progress.finished, progress.total, progress.sent - progress.finished, progress.failed,
                          Double(progress.finished) / seconds, Double(progress.outputTokens) / seconds, progress.elapsed)
        if terminal {
            FileHandleOutput.standardError.write("\r\u{1B}[K" + text)
        } else if printed.withLock({ printed in
            let final = progress.finished == progress.total
            guard !printed.final, progress.elapsed - printed.elapsed >= 5 || final else { return false }
            printed = (progress.elapsed, final)
            return true
        }) {
            FileHandleOutput.standardError.write(text + "\n")
        }
    }

    func finish() {
        if terminal { FileHandleOutput.standardError.write("\n") }
    }
}
