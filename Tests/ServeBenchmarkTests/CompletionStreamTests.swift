import ServeBenchmark
import Testing

@Suite("a streamed completion becomes a record")
struct CompletionStreamTests {
    static func chunk(_ text: String) -> String {
        "data: {\"choices\":[{\"index\":0,\"text\":\"\(text)\",\"finish_reason\":null}]}\n\n"
    }

    @Test("chunk arrival times, text, usage and the speculation extension")
    func happyPath() {
        var stream = CompletionStream(record: RequestRecord(index: 3, promptID: "p3", sent: 1.0))
        stream.receive(status: 200)
        stream.receive(Array(Self.chunk("a").utf8), at: 1.25)
        stream.receive(Array((Self.chunk("b") + Self.chunk("c")).utf8), at: 1.5)
        stream.receive(Array("data: {\"choices\":[{\"text\":\"\",\"finish_reason\":null}]}\n\n".utf8), at: 1.625)
        stream.receive(Array("data: {\"choices\":[{\"text\":\"\",\"finish_reason\":\"length\"}],\"speculation\":{\"drafts\":2,\"mean_accepted_length\":1.5}}\n\n".utf8), at: 1.75)
        stream.receive(Array("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":5,\"total_tokens\":14},\"speculation\":{\"draft_tokens\":8,\"accepted_tokens\":3}}\n\ndata: [DONE]\n\n".utf8), at: 2.0)
        let record = stream.end(at: 2.5)
        #expect(record.succeeded)
        #expect(record.text == "abc")
        #expect(record.chunkTimes == [1.25, 1.5, 1.5, 1.625],
                "an empty chunk counts (a special token); the one that only closes the choice does not")
        #expect(record.promptTokens == 9 && record.completionTokens == 5)
        #expect(record.finishReason == "length")
        #expect(record.speculation == ["drafts": 2, "draft_tokens": 8, "accepted_tokens": 3], "integer counts, from any chunk")
        #expect(record.ttft == 0.25)
        #expect(record.e2e == 1.5)
        #expect(record.itls == [0.25, 0, 0.125])
        #expect(record.tpot == (1.5 - 0.25) / 4)
    }

    @Test("an HTTP error names the status and the OpenAI message")
    func httpError() {
        var stream = CompletionStream(record: RequestRecord(index: 0, promptID: "p", sent: 0))
        stream.receive(status: 429)
        stream.receive(Array("{\"error\":{\"message\":\"queue full\",\"type\":\"rate_limit\"}}".utf8), at: 0.1)
        let record = stream.end(at: 0.2)
        #expect(record.error == "HTTP 429: queue full")
        #expect(!record.succeeded && record.chunkTimes.isEmpty)
    }

    @Test("failures inside a 200 stream", arguments: [
        ("data: {\"error\":{\"message\":\"worker lost\"}}\n\n", "error event: worker lost"),
        (CompletionStreamTests.chunk("a"), "the stream ended without data: [DONE]"),
        ("data: not json\n\n", "a chunk is not a JSON object: not json"),
    ])
    func streamFailures(body: String, expected: String) {
        var stream = CompletionStream(record: RequestRecord(index: 0, promptID: "p", sent: 0))
        stream.receive(status: 200)
        stream.receive(Array(body.utf8), at: 0.1)
        #expect(stream.end(at: 0.2).error == expected)
    }

    @Test("a connection failure wins over everything else; no response at all is an error too")
    func connectionFailure() {
        var stream = CompletionStream(record: RequestRecord(index: 0, promptID: "p", sent: 0))
        stream.receive(status: 200)
        stream.receive(Array(Self.chunk("a").utf8), at: 0.1)
        #expect(stream.end(at: 0.2, failure: "connection reset").error == "connection reset")
        var silent = CompletionStream(record: RequestRecord(index: 0, promptID: "p", sent: 0))
        #expect(silent.end(at: 1).error == "no response")
    }
}
