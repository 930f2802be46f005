import NIOCore
import Testing
import Wire
@testable import Router

@Suite("The shared queue as a value")
struct RequestQueueTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func request(_ id: UInt64, model: String = "m", deadlineSeconds: Int64 = 60) -> RouterRequest {
        RouterRequest(id: id, model: model, assignment: Assignment(requestID: id, prompt: .text("x"), maxTokens: 4),
                      arrival: start, deadline: start + .seconds(deadlineSeconds))
    }

    @Test("one FIFO per model, bounded per model")
    func fifoPerModel() {
        var queue = RequestQueue(capacity: 2)
        let models = ["m", "other", "m", "m", "other"]
        let accepted = models.enumerated().map { queue.append(Self.request(UInt64($0.offset + 1), model: $0.element)) }
        #expect(accepted == [true, true, true, false, true], "the third request of one model exceeds the bound of 2")
        #expect(queue.count == 4 && queue.count(for: "m") == 2)
        let popped = [queue.popFirst(model: "m")?.id, queue.popFirst(model: "m")?.id, queue.popFirst(model: "m")?.id]
        #expect(popped == [1, 3, nil])
        #expect(queue.requests(of: "other").map(\.id) == [2, 5])
        #expect(queue.waitingModels == ["other"])
    }

    @Test("a failed-over request goes to the front, even past the bound")
    func prependBeyondCapacity() {
        var queue = RequestQueue(capacity: 1)
        let first = queue.append(Self.request(1))
        queue.prepend(Self.request(9))
        let second = queue.append(Self.request(2))
        #expect(first && !second)
        #expect(queue.count(for: "m") == 2)
        #expect(queue.requests(of: "m").map(\.id) == [9, 1])
    }

    @Test("removal by id and by deadline")
    func removal() {
        var queue = RequestQueue(capacity: 10)
        for id in 1...5 { _ = queue.append(Self.request(UInt64(id), deadlineSeconds: Int64(id) * 10)) }
        let removed = [queue.remove(id: 3, model: "m")?.id, queue.remove(id: 3, model: "m")?.id, queue.remove(id: 1, model: "nope")?.id]
        #expect(removed == [3, nil, nil])
        let expired = queue.removeExpired(at: Self.start + .seconds(40))
        #expect(expired.map(\.id) == [1, 2, 4], "deadlines 10, 20 and 40 s have passed at 40 s")
        #expect(queue.requests(of: "m").map(\.id) == [5])
        #expect(queue.count == 1)
    }

    @Test("the remaining time sent to a worker is at least 1 ms")
    func remaining() {
        let request = Self.request(1, deadlineSeconds: 2)
        #expect(request.remainingMilliseconds(at: Self.start) == 2000)
        #expect(request.remainingMilliseconds(at: Self.start + .seconds(5)) == 1)
    }
}
