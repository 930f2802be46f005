import NIOCore
import Testing
@testable import Wire

@Suite("Messages round-trip through frames")
struct RoundTripTests {
    /// Encodes all messages into one byte stream, then parses it back.
    static func roundTrip(_ messages: [WireMessage], threshold: Int?, chunk: Int = .max) throws -> [WireMessage] {
        var encoder = try WireEncoder(compressionThreshold: threshold)
        var bytes = ByteBuffer()
        for message in messages { try encoder.encode(message, into: &bytes) }
        var parser = FrameParser()
        var decoder = try WireDecoder()
        var decoded: [WireMessage] = []
        let all = Array(bytes.readableBytesView)
        var offset = 0
        while offset < all.count {
            let end = min(all.count, offset + chunk)
            parser.append(contentsOf: all[offset..<end])
            offset = end
            while let frame = try parser.next() { decoded.append(try decoder.decode(frame)) }
        }
        try parser.finish()
        return decoded
    }

    @Test("every message decodes to itself, uncompressed", arguments: Samples.all)
    func uncompressed(message: WireMessage) throws {
        #expect(try Self.roundTrip([message], threshold: nil) == [message])
    }

    @Test("every message decodes to itself, compressed (threshold 0)", arguments: Samples.all)
    func compressed(message: WireMessage) throws {
        #expect(try Self.roundTrip([message], threshold: 0) == [message])
    }

    @Test("a mixed stream decodes in order with one compression context, fed byte by byte")
    func streamByteByByte() throws {
        let messages = Samples.all + Samples.all.reversed() + Samples.all
        #expect(try Self.roundTrip(messages, threshold: 0, chunk: 1) == messages)
        #expect(try Self.roundTrip(messages, threshold: 64, chunk: 7) == messages)
    }

    @Test("handshake frames are never compressed; other frames are at or above the threshold")
    func compressionFlags() throws {
        var encoder = try WireEncoder(compressionThreshold: 0)
        for message in Samples.all {
            var bytes = ByteBuffer()
            try encoder.encode(message, into: &bytes)
            var parser = FrameParser()
            parser.append(bytes)
            let frame = try #require(try parser.next())
            #expect(frame.type == message.type.rawValue)
            #expect(frame.flags.contains(.compressed) == !message.type.isHandshake)
        }
    }

    @Test("the frame header is length, type, flags, big-endian")
    func headerLayout() throws {
        var encoder = try WireEncoder(compressionThreshold: nil)
        var bytes = ByteBuffer()
        try encoder.encode(.credits(Credits(count: 0x0A0B_0C0D)), into: &bytes)
        #expect(Array(bytes.readableBytesView) == [0, 0, 0, 4, 0x20, 0, 0x0A, 0x0B, 0x0C, 0x0D])
    }

    @Test("an assign frame has the exact bytes of wire.md section 4 (written out by hand from the spec)")
    func assignGoldenBytes() throws {
        let assignment = Assignment(
            requestID: 1, timeoutMilliseconds: 2, prompt: .tokens([5]), producedTokenIDs: [6],
            sampling: SamplingParameters(temperature: 0.5, topK: 3, logitBias: [7: 1], seed: 9),
            maxTokens: 4, stopStrings: ["x"], ignoreEOS: true, speculation: .fixed(2))
        let expected: [UInt8] = [
            0, 0, 0, 0x61, 0x21, 0,                       // length 97, type assign, flags 0
            0, 0, 0, 0, 0, 0, 0, 1,                       // request_id
            0, 0, 0, 2,                                   // timeout_ms
            0, 0, 0, 4,                                   // max_tokens
            1,                                            // ignore_eos
            2, 0, 0, 0, 2,                                // speculation fixed(2)
            0x3F, 0, 0, 0, 0x3F, 0x80, 0, 0, 0, 0, 0, 0,  // temperature 0.5, top_p 1, min_p 0
            0x3F, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     // repetition 1, presence 0, frequency 0
            0, 0, 0, 3,                                   // top_k
            1, 0, 0, 0, 0, 0, 0, 0, 9,                    // has_seed, seed
            0, 0, 0, 1, 0, 0, 0, 7, 0x3F, 0x80, 0, 0,     // logit_bias {7: 1.0}
            0, 0, 0, 1, 0, 0, 0, 1, 0x78,                 // stop ["x"]
            2, 0, 0, 0, 1, 0, 0, 0, 5,                    // prompt: token ids [5]
            0, 0, 0, 1, 0, 0, 0, 6,                       // produced_token_ids [6]
        ]
        var encoder = try WireEncoder(compressionThreshold: nil)
        var bytes = ByteBuffer()
        try encoder.encode(.assign(assignment), into: &bytes)
        #expect(Array(bytes.readableBytesView) == expected)
        #expect(try FrameErrorTests.decode(expected) == [.assign(assignment)])
    }

    @Test("varints round-trip at their byte boundaries")
    func varints() throws {
        for value: UInt32 in [0, 1, 127, 128, 16_383, 16_384, 1 << 21, 1 << 28, .max] {
            var buffer = ByteBuffer()
            buffer.writeVarint(value)
            #expect(buffer.readVarint() == UInt64(value))
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test("a payload over the peer's decompressed limit is refused before anything is written")
    func encoderRefusesOversized() throws {
        var encoder = try WireEncoder(compressionThreshold: nil, limits: WireLimits(maxFrameBytes: 64, maxDecompressedBytes: 64))
        var bytes = ByteBuffer()
        let big = WireMessage.tokens(TokenEvent(requestID: 1, tokenIDs: Array(repeating: 1, count: 100), text: ""))
        #expect(throws: WireError.self) { try encoder.encode(big, into: &bytes) }
        #expect(bytes.readableBytes == 0)
    }
}
