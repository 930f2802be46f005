import Foundation

/// `--json OUT`: the run in `vllm bench serve`'s result shape (`completed`, `request_throughput`,
/// `mean_ttft_ms`, `p99_itl_ms`, `ttfts`, `itls`, `errors`, ...), plus Specula's additions
/// (`failed`, `p90_*`, `chunks_per_output_token`, `speculation_counts`, `throughput_timeline`).
public struct ServeReport: Encodable, Sendable {
    public var url: String
    public var model: String
    public var promptsFile: String
    public var load: LoadShape
    public var speculation: String?
    public var result: ServeBenchmark.Result

    public init(url: String, model: String, promptsFile: String, load: LoadShape, speculation: String?, result: ServeBenchmark.Result) {
        self.url = url
        self.model = model
        self.promptsFile = promptsFile
        self.load = load
        self.speculation = speculation
        self.result = result
    }

    struct Key: CodingKey {
        let stringValue: String
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        let summary = result.summary
        let records = result.records
        try container.encode(url, forKey: Key("url"))
        try container.encode(model, forKey: Key("model"))
        try container.encode(promptsFile, forKey: Key("prompts_file"))
        try container.encode(records.count, forKey: Key("num_prompts"))
        switch load {
        case .concurrency(let count):
            try container.encode(count, forKey: Key("max_concurrency"))
            try container.encodeNil(forKey: Key("request_rate"))
        case .rate(let rate, let seed):
            try container.encodeNil(forKey: Key("max_concurrency"))
            try container.encode(rate, forKey: Key("request_rate"))
            try container.encode(seed, forKey: Key("seed"))
        }
        try container.encode(speculation ?? "server default", forKey: Key("speculation"))
        try container.encode(summary.duration, forKey: Key("duration"))
        try container.encode(summary.completed, forKey: Key("completed"))
        try container.encode(summary.failed, forKey: Key("failed"))
        try container.encode(summary.totalInputTokens, forKey: Key("total_input_tokens"))
        try container.encode(summary.totalOutputTokens, forKey: Key("total_output_tokens"))
        try container.encode(summary.requestThroughput, forKey: Key("request_throughput"))
        try container.encode(summary.outputThroughput, forKey: Key("output_throughput"))
        try container.encode(summary.totalTokenThroughput, forKey: Key("total_token_throughput"))
        for (name, latency) in [("ttft", summary.ttft), ("tpot", summary.tpot), ("itl", summary.itl), ("e2el", summary.e2el)] {
            try container.encode(latency.mean, forKey: Key("mean_\(name)_ms"))
            try container.encode(latency.median, forKey: Key("median_\(name)_ms"))
            try container.encode(latency.std, forKey: Key("std_\(name)_ms"))
            try container.encode(latency.p90, forKey: Key("p90_\(name)_ms"))
            try container.encode(latency.p99, forKey: Key("p99_\(name)_ms"))
        }
        try container.encode(summary.chunksPerToken, forKey: Key("chunks_per_output_token"))
        try container.encode(summary.speculation, forKey: Key("speculation_counts"))
        try container.encode(summary.meanAcceptedLength, forKey: Key("mean_accepted_length"))
        try container.encode(result.connections, forKey: Key("connections"))
        try container.encode(records.map { $0.promptTokens ?? 0 }, forKey: Key("input_lens"))
        try container.encode(records.map { $0.completionTokens ?? 0 }, forKey: Key("output_lens"))
        try container.encode(records.map { $0.ttft ?? 0 }, forKey: Key("ttfts"))
        try container.encode(records.map(\.itls), forKey: Key("itls"))
        try container.encode(records.map { $0.e2e ?? 0 }, forKey: Key("e2els"))
        try container.encode(records.map { $0.error ?? "" }, forKey: Key("errors"))
        try container.encode(ServeSummary.outputTimeline(records), forKey: Key("throughput_timeline"))
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
