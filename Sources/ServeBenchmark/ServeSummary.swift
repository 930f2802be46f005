/// The `vllm bench serve` metrics of a run: counts, throughputs, and TTFT, TPOT, ITL and E2E
/// latency summaries in milliseconds, over the successful requests.
public struct ServeSummary: Sendable, Equatable {
    public var duration: Double
    public var completed = 0
    public var failed = 0
    public var totalInputTokens = 0
    public var totalOutputTokens = 0
    public var requestThroughput = 0.0
    public var outputThroughput = 0.0
    public var totalTokenThroughput = 0.0
    public var ttft: LatencySummary
    public var tpot: LatencySummary
    public var itl: LatencySummary
    public var e2el: LatencySummary
    /// Chunks per output token below 1 means the server sent several tokens per SSE event.
    public var chunksPerToken = 0.0
    /// Sums of the servers' speculation counts, by name (empty when the server reports none).
    public var speculation: [String: Int] = [:]

    /// Tokens per verification step, (steps + accepted draft tokens) / steps, when the server reports
    /// steps.
    public var meanAcceptedLength: Double? {
        guard let steps = speculation["steps"], steps > 0 else { return nil }
        return Double(steps + (speculation["accepted_tokens"] ?? 0)) / Double(steps)
    }

    /// `duration` is the wall time from the first request sent to the last one finished.
    public init(records: [RequestRecord], duration: Double) {
        self.duration = duration
        let good = records.filter(\.succeeded)
        completed = good.count
        failed = records.count - good.count
        totalInputTokens = good.reduce(0) { $0 + ($1.promptTokens ?? 0) }
        totalOutputTokens = good.reduce(0) { $0 + ($1.completionTokens ?? 0) }
        if duration > 0 {
            requestThroughput = Double(completed) / duration
            outputThroughput = Double(totalOutputTokens) / duration
            totalTokenThroughput = Double(totalInputTokens + totalOutputTokens) / duration
        }
        ttft = LatencySummary(good.compactMap(\.ttft)).scaled(by: 1000)
        tpot = LatencySummary(good.compactMap(\.tpot)).scaled(by: 1000)
        itl = LatencySummary(good.flatMap(\.itls)).scaled(by: 1000)
        e2el = LatencySummary(good.compactMap(\.e2e)).scaled(by: 1000)
        let chunks = good.reduce(0) { $0 + $1.chunkTimes.count }
        chunksPerToken = totalOutputTokens > 0 ? Double(chunks) / Double(totalOutputTokens) : 0
        for record in good {
            speculation.merge(record.speculation) { $0 + $1 }
        }
    }

    /// Output tokens per second in one-second buckets since the start, counting each token at the
    /// arrival of the chunk that carried it (tokens of a chunk split evenly), for the plot. The last
    /// bucket is a rate over the part of it the run lasted, so the line does not dive at the end.
    public static func outputTimeline(_ records: [RequestRecord], bucket: Double = 1) -> [Double] {
        let end = records.compactMap(\.finished).max() ?? 0
        var buckets = [Double](repeating: 0, count: Int((end / bucket).rounded(.down)) + 1)
        for record in records where record.succeeded && !record.chunkTimes.isEmpty {
            let perChunk = Double(record.completionTokens ?? record.chunkTimes.count) / Double(record.chunkTimes.count)
            for time in record.chunkTimes {
                buckets[min(Int(time / bucket), buckets.count - 1)] += perChunk / bucket
            }
        }
        let lastSpan = end - Double(buckets.count - 1) * bucket
        if lastSpan >= bucket / 4 {
            buckets[buckets.count - 1] *= bucket / lastSpan
        } else if buckets.count > 1 {
            // A sliver of a second is too short for a rate: its tokens join the bucket before.
            let sliverTokens = buckets.removeLast() * bucket
            let previous = buckets.count - 1
            buckets[previous] = (buckets[previous] * bucket + sliverTokens) / (bucket + lastSpan)
        }
        return buckets
    }
}

extension ServeSummary {
    /// The result table `vllm bench serve` prints, with Specula's p90 rows and failure count.
    public var table: String {
        func row(_ label: String, _ value: String) -> String {
            label.padding(toLength: 41, withPad: " ", startingAt: 0) + value
        }
        func number(_ value: Double) -> String { String(format: "%.2f", value) }
        func section(_ title: String) -> String {
            let dashes = max(0, 50 - title.count)
            return String(repeating: "-", count: dashes / 2) + title + String(repeating: "-", count: dashes - dashes / 2)
        }
        var lines = [
            "============ Serving Benchmark Result ============",
            row("Successful requests:", "\(completed)"),
            row("Failed requests:", "\(failed)"),
            row("Benchmark duration (s):", number(duration)),
            row("Total input tokens:", "\(totalInputTokens)"),
            row("Total generated tokens:", "\(totalOutputTokens)"),
            row("Request throughput (req/s):", number(requestThroughput)),
            row("Output token throughput (tok/s):", number(outputThroughput)),
            row("Total token throughput (tok/s):", number(totalTokenThroughput)),
        ]
        let metrics: [(String, String, LatencySummary)] = [
            ("Time to First Token", "TTFT", ttft), ("Time per Output Token (excl. 1st token)", "TPOT", tpot),
            ("Inter-token Latency", "ITL", itl), ("End-to-end Latency", "E2EL", e2el),
        ]
        for (title, short, latency) in metrics {
            lines.append(section(title))
            lines.append(row("Mean \(short) (ms):", number(latency.mean)))
            lines.append(row("Median \(short) (ms):", number(latency.median)))
            lines.append(row("P90 \(short) (ms):", number(latency.p90)))
            lines.append(row("P99 \(short) (ms):", number(latency.p99)))
        }
        lines.append(row("SSE chunks per output token:", number(chunksPerToken)))
        for (name, value) in speculation.sorted(by: { $0.key < $1.key }) {
            lines.append(row("Speculation \(name):", "\(value)"))
        }
        if let meanAcceptedLength { lines.append(row("Mean accepted length (tokens/step):", number(meanAcceptedLength))) }
        lines.append(String(repeating: "=", count: 50))
        return lines.joined(separator: "\n") + "\n"
    }
}
