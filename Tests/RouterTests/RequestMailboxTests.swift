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
}
