import Foundation
import ServeBenchmark
import Testing

@Suite("serving statistics")
struct StatisticsTests {
    @Test("percentiles interpolate linearly between ranks, as numpy's default")
    func percentiles() {
        let summary = LatencySummary([4, 1, 3, 2])
        #expect(summary.mean == 2.5)
        #expect(summary.median == 2.5)
        #expect(abs(summary.p90 - 3.7) < 1e-12)
        #expect(abs(summary.p99 - 3.97) < 1e-12)
        #expect(abs(summary.std - 1.118033988749895) < 1e-12, "population standard deviation")
        #expect(LatencySummary([]).count == 0 && LatencySummary([]).mean == 0 && LatencySummary([]).p99 == 0)
        #expect(LatencySummary([5]).p99 == 5)
    }

    static func record(_ index: Int, sent: Double, chunks: [Double], finished: Double, tokens: Int, prompt: Int = 10,
                       error: String? = nil) -> RequestRecord {
        var record = RequestRecord(index: index, promptID: "\(index)", sent: sent)
        record.chunkTimes = chunks
        record.finished = finished
        record.completionTokens = tokens
        record.promptTokens = prompt
        record.error = error
        return record
    }

    @Test("throughputs, TTFT, TPOT, ITL and E2E over successful requests; failures counted apart")
    func summary() {
        let records = [
            Self.record(0, sent: 0, chunks: [0.1, 0.2, 0.3], finished: 0.3, tokens: 3),
            Self.record(1, sent: 0.5, chunks: [0.7, 0.9], finished: 1.0, tokens: 4),
            Self.record(2, sent: 0.6, chunks: [], finished: 0.7, tokens: 0, error: "HTTP 500: boom"),
        ]
        let summary = ServeSummary(records: records, duration: 1.0)
        #expect(summary.completed == 2 && summary.failed == 1)
        #expect(summary.totalOutputTokens == 7 && summary.totalInputTokens == 20)
        #expect(summary.requestThroughput == 2 && summary.outputThroughput == 7 && summary.totalTokenThroughput == 27)
        #expect(abs(summary.ttft.mean - 150) < 1e-9)  // 100 and 200 ms
        // TPOT: (0.3 - 0.1) / 2 = 100 ms; (0.5 - 0.2) / 3 = 100 ms.
        #expect(abs(summary.tpot.mean - 100) < 1e-9 && summary.tpot.count == 2)
        #expect(summary.itl.count == 3 && abs(summary.itl.mean - 400.0 / 3) < 1e-9)
        #expect(abs(summary.e2el.mean - 400) < 1e-9)
        #expect(abs(summary.chunksPerToken - 5.0 / 7) < 1e-12)
        #expect(summary.table.contains("Failed requests:                         1"))
        #expect(summary.table.contains("Mean TTFT (ms):                          150.00"))
        #expect(summary.meanAcceptedLength == nil)
        var speculative = records
        speculative[0].speculation = ["steps": 2, "accepted_tokens": 1, "drafts": 2, "draft_tokens": 6]
        speculative[1].speculation = ["steps": 3, "accepted_tokens": 1, "drafts": 1, "draft_tokens": 2]
        let withDrafts = ServeSummary(records: speculative, duration: 1.0)
        #expect(withDrafts.speculation == ["steps": 5, "accepted_tokens": 2, "drafts": 3, "draft_tokens": 8])
        #expect(withDrafts.meanAcceptedLength == 7.0 / 5)
    }

    @Test("the throughput timeline counts a chunk's tokens in the second it arrived; the last part-second is a rate too")
    func timeline() {
        let records = [Self.record(0, sent: 0, chunks: [0.5, 1.5, 1.6], finished: 2.5, tokens: 6)]
        #expect(ServeSummary.outputTimeline(records) == [2, 4, 0])
        let tail = [Self.record(0, sent: 0, chunks: [0.5, 2.1], finished: 2.5, tokens: 4)]
        #expect(ServeSummary.outputTimeline(tail) == [2, 0, 4], "2 tokens in the last half second: 4 tokens/s")
        let sliver = [Self.record(0, sent: 0, chunks: [0.5, 1.5, 2.05], finished: 2.1, tokens: 3)]
        let merged = ServeSummary.outputTimeline(sliver)
        #expect(merged.count == 2 && merged[0] == 1 && abs(merged[1] - 2 / 1.1) < 1e-9, "a tenth of a second joins the second before")
    }

    @Test("Poisson arrivals: the same seed gives the same times, the mean gap is 1 / rate")
    func poisson() {
        var first = PoissonArrivals(rate: 4, seed: 7)
        var second = PoissonArrivals(rate: 4, seed: 7)
        #expect(first.offsets(count: 50) == second.offsets(count: 50))
        var other = PoissonArrivals(rate: 4, seed: 8)
        #expect(other.offsets(count: 5) != PoissonArrivals(rate: 4, seed: 7).offsetsCopy(5))
        var long = PoissonArrivals(rate: 4, seed: 1)
        let gaps = (0..<20_000).map { _ in long.nextGap() }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        #expect(abs(mean - 0.25) < 0.01, "mean gap \(mean)")
        let variance = gaps.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(gaps.count)
        #expect(abs(variance.squareRoot() - 0.25) < 0.015, "exponential: standard deviation = mean")
        #expect(PoissonArrivals(rate: 2, seed: 0).offsetsCopy(3).first == 0)
    }
}

extension PoissonArrivals {
    func offsetsCopy(_ count: Int) -> [Double] {
        var copy = self
        return copy.offsets(count: count)
    }
}

@Suite("prompt files")
struct PromptFileTests {
    @Test("JSONL with CRLF and blank lines; defaults; limit; errors name the line")
    func parsing() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("prompts-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "{\"id\": \"a\", \"prompt\": \"x\", \"max_tokens\": 5}\r\n\r\n{\"prompt\": \"y\"}\r\n{\"prompt\": \"z\"}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let file = try PromptFile(path: path)
        #expect(file.prompts == [.init(id: "a", text: "x", maxTokens: 5), .init(id: "2", text: "y", maxTokens: 128),
                                 .init(id: "3", text: "z", maxTokens: 128)])
        #expect(try PromptFile(path: path, limit: 2).prompts.count == 2)
        try "{\"prompt\": \"x\"}\nnot json\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: PromptFileError.self) { try PromptFile(path: path) }
        do {
            _ = try PromptFile(path: path)
        } catch {
            #expect(error.description == "\(path):2: expected {\"id\", \"prompt\", \"max_tokens\"}")
        }
    }
}
