import Testing
import Wire
@testable import Router

@Suite("Router metrics")
struct RouterMetricsTests {
    @Test("every documented name is exported with the specula: prefix, and counts add up")
    func names() {
        let metrics = RouterMetrics()
        metrics.finished(RequestSummary(reason: .stop, promptTokens: 7, completionTokens: 3,
                                        speculation: SpeculationCounts(drafts: 2, draftTokens: 5, acceptedTokens: 3, steps: 2, acceptedPerPosition: [2, 1])))
        metrics.failed(.queueFull(model: "m", capacity: 1))
        metrics.timeToFirstToken.record(0.01)
        metrics.generationTokens.increment(by: Int64(3))
        let text = String(decoding: metrics.render(), as: UTF8.self)
        for name in RouterMetrics.names {
            #expect(name.hasPrefix("specula:"))
            #expect(text.contains("# TYPE \(name) "), "\(name) missing")
        }
        #expect(text.contains("specula:prompt_tokens_total 7"))
        #expect(text.contains(#"specula:request_success_total{finished_reason="stop"} 1"#))
        #expect(text.contains(#"specula:request_failure_total{status="429"} 1"#))
        #expect(text.contains(#"specula:spec_decode_num_accepted_tokens_per_pos_total{position="1"} 1"#))
        #expect(text.contains("specula:spec_decode_num_draft_tokens_total 5"))
    }
}
