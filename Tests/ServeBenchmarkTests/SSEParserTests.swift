import ServeBenchmark
import Testing

@Suite("server-sent events")
struct SSEParserTests {
    static let stream = Array("data: {\"a\":1}\n\n: keep-alive comment\n\nevent: note\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n".utf8)

    @Test("events come out the same however the bytes are split", arguments: [1, 2, 3, 7, 1000])
    func splitAnywhere(piece: Int) {
        var parser = SSEParser()
        var events: [SSEParser.Event] = []
        var index = 0
        while index < Self.stream.count {
            events += parser.feed(Self.stream[index..<min(index + piece, Self.stream.count)])
            index += piece
        }
        #expect(events == [
            .init(type: "message", data: "{\"a\":1}"),
            .init(type: "note", data: "line one\nline two"),
            .init(type: "message", data: "[DONE]"),
        ])
        #expect(!parser.hasPartialEvent)
    }

    @Test("CRLF and CR line ends, a space after the colon optional, unknown fields ignored")
    func lineEnds() {
        var parser = SSEParser()
        let events = parser.feed(Array("data:x\r\n\r\nid: 7\rdata: y\r\rretry: 10\ndata\n\n".utf8))
        #expect(events.map(\.data) == ["x", "y", ""])
    }

    @Test("an unfinished event stays inside until its blank line")
    func partial() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: half".utf8)).isEmpty)
        #expect(parser.hasPartialEvent)
        #expect(parser.feed(Array("\n".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)).map(\.data) == ["half"])
    }
}
