@testable import Engine
import Testing

/// When a speculating request's prompt gets its n-gram counts: in the step that completes its prefill,
/// where counting costs about a thousandth of the prefill, rather than in the first step that drafts
/// for it, a decode step that counting a batch of long prompts slowed by a fifth.
@Suite("Prompt n-gram statistics")
struct PromptStatisticsTests {
    @Test("the prompt is counted in the step that completes its prefill")
    func countedWhenPrefilled() throws {
        // A 300-token prompt at 256 tokens per step: two prefill steps.
        let harness = try EngineHarness(configuration: .init(maxTokensPerStep: 256, maxRunning: 1), speculate: true)
        let prompt = try harness.benchPrompts("bench/code-long.jsonl", limit: 1)[0].prefix(300)
        try #require(prompt.count == 300)
        _ = harness.engine.submit(GenerationRequest(id: 1, promptIDs: Array(prompt), maxTokens: 8, stopAtEOS: false,
                                                    speculation: .auto(cap: nil)))
        _ = harness.engine.step()
        #expect(harness.engine.requests[1]?.draftState?.tokenCount == 0)
        _ = harness.engine.step()
        #expect(harness.engine.requests[1]?.draftState?.tokenCount == 300)
        // The first sampled token waits for the next catch-up, as every output token does.
        #expect(harness.engine.requests[1]?.draftState?.isCurrent == false)
    }
}
