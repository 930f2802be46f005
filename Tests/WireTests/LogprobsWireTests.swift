import NIOCore
import Testing
@testable import Wire

/// The optional logprobs sections of `assign` and `tokens` (wire.md section 4): exact bytes, frames
/// without them still decode, and every cut or bad value inside them is `malformedFrame`.
@Suite("Logprobs sections on the wire")
struct LogprobsWireTests {
    static func payload(_ message: WireMessage) -> [UInt8] {
        var buffer = ByteBuffer()
        message.encodePayload(into: &buffer)
        return Array(buffer.readableBytesView)
    }

    static func decode(_ type: MessageType, _ payload: [UInt8]) throws -> WireMessage {
        try WireMessage(type: type, payload: ByteBuffer(bytes: payload))
    }

    @Test("a tokens frame with logprobs has the exact bytes of wire.md section 4")
    func tokensGoldenBytes() throws {
        let event = TokenEvent(requestID: 1, tokenIDs: [5], text: "a", logprobs: [
            TokenLogprobs(logprob: -0.5, bytes: [0x61], top: [LogprobAlternative(tokenID: 6, logprob: -1, bytes: [0xC3])]),
        ])
        let expected: [UInt8] = [
            0, 0, 0, 0, 0, 0, 0, 1,          // request_id
            0, 0, 0, 1, 0, 0, 0, 5,          // token_ids [5]
            0, 0, 0, 1, 0x61,                // text "a"
            0, 0, 0, 1,                      // logprobs: 1 entry
            0xBF, 0, 0, 0,                   //   logprob -0.5
            0, 0, 0, 1, 0x61,                //   bytes "a"
            1,                               //   1 alternative
            0, 0, 0, 6, 0xBF, 0x80, 0, 0,    //     token 6, logprob -1
            0, 0, 0, 1, 0xC3,                //     bytes [0xC3] (half a character: raw bytes, not UTF-8)
        ]
        #expect(Self.payload(.tokens(event)) == expected)
        #expect(try Self.decode(.tokens, expected) == .tokens(event))
        // The same event without the section is the version-1 frame it always was.
        #expect(try Self.decode(.tokens, Array(expected.prefix(21))) == .tokens(TokenEvent(requestID: 1, tokenIDs: [5], text: "a")))
    }

    @Test("assign: the section is one byte after produced_token_ids; absent means no logprobs")
    func assignSection() throws {
        let without = Assignment(requestID: 1, prompt: .tokens([5]), maxTokens: 4)
        var with = without
        with.logprobs = 3
        let base = Self.payload(.assign(without))
        #expect(Self.payload(.assign(with)) == base + [3])
        #expect(try Self.decode(.assign, base) == .assign(without))
        #expect(try Self.decode(.assign, base + [0]) == .assign(Assignment(requestID: 1, prompt: .tokens([5]), maxTokens: 4, logprobs: 0)))
        FrameErrorTests.expectError(.malformedFrame, containing: "assign.logprobs: is 21; expected 0-20") {
            _ = try Self.decode(.assign, base + [21])
        }
        FrameErrorTests.expectError(.malformedFrame, containing: "assign: 1 bytes left over") {
            _ = try Self.decode(.assign, base + [3, 0])
        }
    }

    @Test("every cut inside the tokens section is malformedFrame, never a crash or a shorter event")
    func truncation() throws {
        let full = Self.payload(.tokens(Samples.tokensWithLogprobs))
        var plain = Samples.tokensWithLogprobs
        plain.logprobs = nil
        let base = Self.payload(.tokens(plain))
        #expect(full.count > base.count)
        for cut in (base.count + 1)..<full.count {
            FrameErrorTests.expectError(.malformedFrame, containing: "tokens.logprobs") {
                _ = try Self.decode(.tokens, Array(full.prefix(cut)))
            }
        }
    }

    @Test("bad values in the section name their field", arguments: [
        // 1 entry for 2 ids.
        ([0, 0, 0, 1] + LogprobsWireTests.entry(logprob: [0xBF, 0, 0, 0], alternatives: 0), "tokens.logprobs: has 1 entries for 2 token ids"),
        // A positive logprob, a NaN, more than 20 alternatives.
        ([0, 0, 0, 2] + LogprobsWireTests.entry(logprob: [0x3F, 0, 0, 0], alternatives: 0) + LogprobsWireTests.entry(logprob: [0xBF, 0, 0, 0], alternatives: 0),
         "tokens.logprobs[0]: log-probability is 0.5; expected a finite number ≤ 0"),
        ([0, 0, 0, 2] + LogprobsWireTests.entry(logprob: [0xBF, 0, 0, 0], alternatives: 0) + LogprobsWireTests.entry(logprob: [0x7F, 0xC0, 0, 0], alternatives: 0),
         "tokens.logprobs[1]: float is nan"),
        ([0, 0, 0, 2] + LogprobsWireTests.entry(logprob: [0xBF, 0, 0, 0], alternatives: 21) + [UInt8](repeating: 0, count: 300),
         "tokens.logprobs[0].alternatives: is 21; expected at most 20"),
        // A count no payload could hold.
        ([0xFF, 0xFF, 0xFF, 0xFF], "tokens.logprobs: count 4294967295 needs at least"),
    ] as [([UInt8], String)])
    func badValues(section: [UInt8], message: String) {
        let base = Self.payload(.tokens(TokenEvent(requestID: 1, tokenIDs: [5, 6], text: "ab")))
        FrameErrorTests.expectError(.malformedFrame, containing: message) {
            _ = try Self.decode(.tokens, base + section)
        }
    }

    /// One entry: `logprob`, empty bytes, `alternatives` count.
    static func entry(logprob: [UInt8], alternatives: UInt8) -> [UInt8] {
        logprob + [0, 0, 0, 0, alternatives]
    }
}
