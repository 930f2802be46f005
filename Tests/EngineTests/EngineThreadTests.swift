import Engine
import Foundation
import Synchronization
import Testing

@Suite("Engine thread")
struct EngineThreadTests {
    /// Collects events from the engine thread and lets the test wait for finished requests.
    final class Collector: Sendable {
        let state = Mutex<(ids: [UInt64: [Int]], reasons: [UInt64: FinishReason])>(([:], [:]))

        func absorb(_ events: [EngineEvent]) {
            state.withLock { state in
                for event in events {
                    switch event {
                    case let .tokens(id, ids, _, _): state.ids[id, default: []] += ids
                    case let .finished(id, reason, _, _, _): state.reasons[id] = reason
                    }
                }
            }
        }

        func wait(for count: Int, seconds: Double = 60) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if state.withLock({ $0.reasons.count }) >= count { return true }
                Thread.sleep(forTimeInterval: 0.005)
            }
            return false
        }
    }

    @Test("requests submitted from another thread finish with the tokens the engine gives directly")
    func submitsFromOutside() throws {
        let direct = try EngineHarness()
        let prompts = try direct.benchPrompts(limit: 4).map { Array($0.prefix(50)) }
        let requests = prompts.enumerated().map { GenerationRequest(id: UInt64($0 + 1), promptIDs: $1, maxTokens: 20, stopAtEOS: false) }
        let expected = direct.run(requests)

        let collector = Collector()
        let thread = EngineThread(engine: try EngineHarness().engine) { collector.absorb($0) }
        for request in requests { #expect(thread.submit(request)) }
        #expect(collector.wait(for: requests.count))
        for request in requests {
            #expect(collector.state.withLock { $0.ids[request.id] } == expected[request.id]?.ids)
        }
        thread.drain()
        thread.waitUntilStopped()
        #expect(thread.load.running == 0)
    }

    @Test("cancel reaches a running request; drain finishes in-flight work and refuses new work")
    func cancelAndDrain() throws {
        let harness = try EngineHarness()
        let prompt = try harness.benchPrompts(limit: 1)[0]
        let collector = Collector()
        let thread = EngineThread(engine: harness.engine) { collector.absorb($0) }
        thread.submit(GenerationRequest(id: 1, promptIDs: prompt, maxTokens: 100_000, stopAtEOS: false))
        thread.submit(GenerationRequest(id: 2, promptIDs: Array(prompt.prefix(20)), maxTokens: 30, stopAtEOS: false))
        while collector.state.withLock({ ($0.ids[1] ?? []).count }) < 5 { Thread.sleep(forTimeInterval: 0.005) }
        thread.cancel(1)
        thread.drain()
        #expect(!thread.submit(GenerationRequest(id: 3, promptIDs: prompt, maxTokens: 4)))
        thread.waitUntilStopped()
        let reasons = collector.state.withLock { $0.reasons }
        #expect(reasons[1] == .cancelled)
        #expect(reasons[2] == .length)
        #expect(reasons[3] == nil)
    }

    @Test("a probe is answered between steps while a request runs, and at once after the thread stopped")
    func probeAnswersBetweenSteps() throws {
        let harness = try EngineHarness()
        let prompt = try harness.benchPrompts(limit: 1)[0]
        let collector = Collector()
        let thread = EngineThread(engine: harness.engine) { collector.absorb($0) }
        let answered = Mutex<[String]>([])
        thread.probe { answered.withLock { $0.append("idle") } }
        thread.submit(GenerationRequest(id: 1, promptIDs: prompt, maxTokens: 100_000, stopAtEOS: false))
        while collector.state.withLock({ ($0.ids[1] ?? []).count }) < 2 { Thread.sleep(forTimeInterval: 0.005) }
        thread.probe { answered.withLock { $0.append("busy") } }
        while answered.withLock({ $0.count }) < 2 { Thread.sleep(forTimeInterval: 0.005) }
        #expect(collector.state.withLock { $0.reasons[1] } == nil, "answered while the request still runs")
        thread.cancel(1)
        thread.drain()
        thread.waitUntilStopped()
        thread.probe { answered.withLock { $0.append("stopped") } }
        #expect(answered.withLock { $0 } == ["idle", "busy", "stopped"])
    }
}
