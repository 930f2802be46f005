import Testing
@testable import Router

@Suite("Request mailbox")
struct RequestMailboxTests {
    @Test("the handler takes everything that arrived at once, in order, then nil after finish")
    func batches() async {
        let mailbox = RequestMailbox()
        mailbox.push(.tokens(text: "a", count: 1))
        mailbox.push(.tokens(text: "b", count: 2))
        #expect(await mailbox.next() == [.tokens(text: "a", count: 1), .tokens(text: "b", count: 2)])
        mailbox.push(.finished(RequestSummary(reason: .stop, promptTokens: 1, completionTokens: 3)))
        mailbox.finish()
        mailbox.push(.tokens(text: "late", count: 1))
        #expect(await mailbox.next() == [.finished(RequestSummary(reason: .stop, promptTokens: 1, completionTokens: 3))])
        #expect(await mailbox.next() == nil)
    }

    @Test("a waiting handler wakes for the next event, and for finish")
    func waking() async {
        let mailbox = RequestMailbox()
        async let first = mailbox.next()
        try? await Task.sleep(for: .milliseconds(20))
        mailbox.push(.tokens(text: "x", count: 1))
        #expect(await first == [.tokens(text: "x", count: 1)])
        async let second = mailbox.next()
        try? await Task.sleep(for: .milliseconds(20))
        mailbox.finish()
        #expect(await second == nil)
    }

    @Test("with wire timing, a write records how long its batch's oldest event waited, once")
    func timing() async throws {
        let timing = RouterWireTiming()
        let mailbox = RequestMailbox(timing: timing)
        mailbox.push(.tokens(text: "a", count: 1))
        try await Task.sleep(for: .milliseconds(30))
        mailbox.push(.tokens(text: "b", count: 1))
        #expect(await mailbox.next()?.count == 2)
        mailbox.wrote()
        mailbox.wrote()  // nothing taken since: not counted again
        let summary = timing.summary
        #expect(summary.hasPrefix("writes=1 "))
        let mean = summary.split(separator: " ").first { $0.hasPrefix("mean_us=") }.flatMap { Double($0.dropFirst(8)) } ?? 0
        #expect(mean >= 30_000, "the oldest event waited 30 ms: \(summary)")
        let untimed = RequestMailbox()
        untimed.push(.tokens(text: "c", count: 1))
        _ = await untimed.next()
        untimed.wrote()
        #expect(timing.summary.hasPrefix("writes=1 "))
    }
}
