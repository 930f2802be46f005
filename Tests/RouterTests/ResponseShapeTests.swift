import Foundation
import Testing
import Wire
@testable import Router

/// The JSON writer, SSE framing and the OpenAI response shapes, parsed back with Foundation.
@Suite("Response shapes")
struct ResponseShapeTests {
    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static let summary = RequestSummary(reason: .length, promptTokens: 5, completionTokens: 3,
                                        speculation: SpeculationCounts(drafts: 2, draftTokens: 6, acceptedTokens: 4, steps: 3))

    @Test("strings are escaped so any text survives a JSON round trip")
    func escaping() throws {
        let text = "quote \" backslash \\ newline \n tab \t bell \u{07} nul \u{00} é ✓ 🐍"
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("text", text)
        writer.field("n", 3)
        writer.field("x", 0.5)
        writer.field("ok", true)
        writer.nullField("none")
        writer.key("list")
        writer.beginArray()
        writer.integer(1)
        writer.integer(2)
        writer.endArray()
        writer.endObject()
        let parsed = try Self.object(writer.bytes)
        #expect(parsed["text"] as? String == text)
        #expect(parsed["n"] as? Int == 3 && parsed["x"] as? Double == 0.5 && parsed["ok"] as? Bool == true)
        #expect(parsed["none"] is NSNull)
        #expect(parsed["list"] as? [Int] == [1, 2])
    }

    @Test("SSE events are 'data: JSON' and a blank line; the stream ends with [DONE]")
    func sseFraming() {
        #expect(String(decoding: SSE.event(Array(#"{"a":1}"#.utf8)), as: UTF8.self) == "data: {\"a\":1}\n\n")
        #expect(String(decoding: SSE.done, as: UTF8.self) == "data: [DONE]\n\n")
    }

    @Test("a whole completion: text_completion, one choice, usage and the speculation extension")
    func wholeCompletion() throws {
        var renderer = ResponseRenderer(route: .completion, id: "cmpl-1", created: 1_700_000_000, model: "m", includeUsage: false)
        let body = try Self.object(renderer.whole(text: "abc", summary: Self.summary))
        #expect(body["object"] as? String == "text_completion" && body["id"] as? String == "cmpl-1" && body["model"] as? String == "m")
        let choice = try #require((body["choices"] as? [[String: Any]])?.first)
        #expect(choice["text"] as? String == "abc" && choice["finish_reason"] as? String == "length" && choice["index"] as? Int == 0)
        #expect(choice["logprobs"] is NSNull)
        let usage = try #require(body["usage"] as? [String: Int])
        #expect(usage == ["prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8])
        let speculation = try #require(body["speculation"] as? [String: Any])
        #expect(speculation["draft_tokens"] as? Int == 6 && speculation["accepted_tokens"] as? Int == 4)
        #expect(speculation["mean_accepted_length"] as? Double == 7.0 / 3.0)
    }

    @Test("a whole chat completion carries an assistant message")
    func wholeChat() throws {
        var renderer = ResponseRenderer(route: .chat, id: "chatcmpl-1", created: 1, model: "m", includeUsage: false)
        let body = try Self.object(renderer.whole(text: "hi", summary: Self.summary))
        #expect(body["object"] as? String == "chat.completion")
        let message = try #require((body["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
        #expect(message["role"] as? String == "assistant" && message["content"] as? String == "hi")
    }

    @Test("chat chunks: the role first, then content deltas, then an empty delta with the finish reason")
    func chatChunks() throws {
        var renderer = ResponseRenderer(route: .chat, id: "chatcmpl-1", created: 1, model: "m", includeUsage: true)
        let role = try Self.object(try #require(renderer.roleChunk()))
        #expect(role["object"] as? String == "chat.completion.chunk")
        let roleDelta = try #require((role["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])
        #expect(roleDelta["role"] as? String == "assistant")
        #expect(role["usage"] is NSNull, "include_usage: every chunk has usage null")
        let text = try Self.object(renderer.textChunk("x"))
        let choice = try #require((text["choices"] as? [[String: Any]])?.first)
        #expect((choice["delta"] as? [String: Any])?["content"] as? String == "x")
        #expect(choice["finish_reason"] is NSNull)
        let finish = try Self.object(renderer.finishChunk(Self.summary))
        let last = try #require((finish["choices"] as? [[String: Any]])?.first)
        #expect((last["delta"] as? [String: Any])?.isEmpty == true && last["finish_reason"] as? String == "length")
        let usage = try Self.object(renderer.usageChunk(Self.summary))
        #expect((usage["choices"] as? [Any])?.isEmpty == true)
        #expect((usage["usage"] as? [String: Int])?["total_tokens"] == 8)
    }

    @Test("completion chunks: text pieces, no role chunk, no usage field without include_usage")
    func completionChunks() throws {
        var renderer = ResponseRenderer(route: .completion, id: "cmpl-1", created: 1, model: "m", includeUsage: false)
        #expect(renderer.roleChunk() == nil)
        let chunk = try Self.object(renderer.textChunk("def"))
        #expect(chunk["object"] as? String == "text_completion" && chunk["usage"] == nil)
        #expect((chunk["choices"] as? [[String: Any]])?.first?["text"] as? String == "def")
    }

    /// "deéx" in four tokens, é split across two byte-level tokens; two alternatives each.
    static let logprobs = [
        TokenLogprobs(logprob: -0.25, bytes: Array("de".utf8), top: [
            LogprobAlternative(tokenID: 1, logprob: -0.25, bytes: Array("de".utf8)),
            LogprobAlternative(tokenID: 2, logprob: -2, bytes: Array("d".utf8)),
        ]),
        TokenLogprobs(logprob: -1.5, bytes: [0xC3], top: [
            LogprobAlternative(tokenID: 4, logprob: -0.5, bytes: Array(" ".utf8)),
            LogprobAlternative(tokenID: 5, logprob: -1, bytes: Array("\n".utf8)),
        ]),
        TokenLogprobs(logprob: -0.125, bytes: [0xA9], top: [
            LogprobAlternative(tokenID: 3, logprob: -0.125, bytes: [0xA9]),
            LogprobAlternative(tokenID: 6, logprob: -3, bytes: [0xA8]),
        ]),
        TokenLogprobs(logprob: -9999, bytes: Array("x".utf8), top: [
            LogprobAlternative(tokenID: 8, logprob: -0.01, bytes: Array("y".utf8)),
            LogprobAlternative(tokenID: 9, logprob: -0.02, bytes: Array("y".utf8)),
        ]),
    ]

    @Test("completions logprobs: tokens, token_logprobs, top N plus the chosen token, character text offsets")
    func completionLogprobs() throws {
        var renderer = ResponseRenderer(route: .completion, id: "cmpl-1", created: 1, model: "m", includeUsage: false, logprobs: true)
        let body = try Self.object(renderer.whole(text: "deéx", logprobs: Self.logprobs, summary: Self.summary))
        let choice = try #require((body["choices"] as? [[String: Any]])?.first)
        let logprobs = try #require(choice["logprobs"] as? [String: Any])
        #expect(logprobs["tokens"] as? [String] == ["de", "\\xc3", "\\xa9", "x"])
        #expect(logprobs["token_logprobs"] as? [Double] == [-0.25, -1.5, -0.125, -9999])
        let top = try #require(logprobs["top_logprobs"] as? [[String: Double]])
        #expect(top == [["de": -0.25, "d": -2], [" ": -0.5, "\n": -1, "\\xc3": -1.5], ["\\xa9": -0.125, "\\xa8": -3],
                        ["y": -0.01, "x": -9999]], "the chosen token joins the top N; one key per string")
        #expect(logprobs["text_offset"] as? [Int] == [0, 2, 2, 3], "é's second byte points at é")
        #expect((body["usage"] as? [String: Int])?["completion_tokens"] == 3, "usage unchanged")
    }

    @Test("streamed completions: each chunk has its tokens' logprobs; text offsets continue across chunks")
    func completionLogprobChunks() throws {
        var renderer = ResponseRenderer(route: .completion, id: "cmpl-1", created: 1, model: "m", includeUsage: false, logprobs: true)
        _ = renderer.textChunk("de", logprobs: Array(Self.logprobs.prefix(2)))
        let second = try Self.object(renderer.textChunk("éx", logprobs: Array(Self.logprobs.suffix(2))))
        let logprobs = try #require((second["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])
        #expect(logprobs["tokens"] as? [String] == ["\\xa9", "x"])
        #expect(logprobs["text_offset"] as? [Int] == [2, 3])
        let finish = try Self.object(renderer.finishChunk(Self.summary))
        #expect((finish["choices"] as? [[String: Any]])?.first?["logprobs"] is NSNull)
    }

    @Test("chat logprobs: content entries with token, logprob, bytes and top_logprobs, plain and streamed")
    func chatLogprobs() throws {
        var renderer = ResponseRenderer(route: .chat, id: "chatcmpl-1", created: 1, model: "m", includeUsage: false, logprobs: true)
        let body = try Self.object(renderer.whole(text: "deéx", logprobs: Self.logprobs, summary: Self.summary))
        let choice = try #require((body["choices"] as? [[String: Any]])?.first)
        let content = try #require((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
        #expect(content.count == 4)
        #expect(content[1]["token"] as? String == "\\xc3" && content[1]["bytes"] as? [Int] == [0xC3] && content[1]["logprob"] as? Double == -1.5)
        let top = try #require(content[3]["top_logprobs"] as? [[String: Any]])
        #expect(top.map { $0["token"] as? String } == ["y", "y"] && top.map { $0["bytes"] as? [Int] } == [[121], [121]])
        #expect(top.map { $0["logprob"] as? Double } == [-0.01, -0.02])

        let role = try Self.object(try #require(renderer.roleChunk()))
        #expect((role["choices"] as? [[String: Any]])?.first?["logprobs"] is NSNull)
        let chunk = try Self.object(renderer.textChunk("de", logprobs: Array(Self.logprobs.prefix(1))))
        let streamed = try #require(((chunk["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
        #expect(streamed.count == 1 && streamed[0]["token"] as? String == "de" && streamed[0]["bytes"] as? [Int] == [100, 101])
    }

    @Test("a request with logprobs and no tokens gets empty lists; one without gets null")
    func emptyLogprobs() throws {
        var on = ResponseRenderer(route: .chat, id: "chatcmpl-1", created: 1, model: "m", includeUsage: false, logprobs: true)
        let body = try Self.object(on.whole(text: "", summary: Self.summary))
        let logprobs = (body["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any]
        #expect((logprobs?["content"] as? [Any])?.isEmpty == true)
        var off = ResponseRenderer(route: .chat, id: "chatcmpl-1", created: 1, model: "m", includeUsage: false)
        let plain = try Self.object(off.textChunk("x"))
        #expect((plain["choices"] as? [[String: Any]])?.first?["logprobs"] is NSNull)
    }

    @Test("token strings: valid UTF-8 as is, stray bytes as \\xNN")
    func tokenStrings() {
        #expect(LogprobsRenderer.token(Array("é✓".utf8)) == "é✓")
        #expect(LogprobsRenderer.token([0x61, 0xC3, 0x62]) == "a\\xc3b")
        #expect(LogprobsRenderer.token([0xE2, 0x9C]) == "\\xe2\\x9c")
        #expect(LogprobsRenderer.token([]) == "")
    }

    @Test("errors are {error: {message, type, param, code}}")
    func errorShape() throws {
        let body = try Self.object(ResponseRenderer.error(.invalid("top_p", "top_p is 2; expected a number in (0, 1]")))
        let error = try #require(body["error"] as? [String: Any])
        #expect(error["type"] as? String == "invalid_request_error" && error["param"] as? String == "top_p")
        #expect(error["code"] is NSNull && (error["message"] as? String)?.contains("top_p is 2") == true)
    }
}
