import NIOCore
import Testing
@testable import Wire

/// Bad input gives a `WireError` with a clear code and message, never a crash.
@Suite("Truncated, oversized, corrupt and bomb frames")
struct FrameErrorTests {
    static func rawFrame(type: UInt8, flags: UInt8 = 0, payload: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(UInt32(payload.count), type, flags)
        buffer.writeBytes(payload)
        return Array(buffer.readableBytesView)
    }

    static func decode(_ bytes: [UInt8], limits: WireLimits = .default) throws(WireError) -> [WireMessage] {
        var parser = FrameParser(limits: limits)
        var decoder = try WireDecoder(limits: limits)
        parser.append(contentsOf: bytes)
        var messages: [WireMessage] = []
        while let frame = try parser.next() { messages.append(try decoder.decode(frame)) }
        try parser.finish()
        return messages
    }

    static func expectError(_ code: WireError.Code, containing text: String, _ body: () throws -> Void,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected \(code), nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as WireError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a WireError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a partial frame needs more data, then is truncated at close")
    func truncated() throws {
        var encoder = try WireEncoder()
        var bytes = ByteBuffer()
        try encoder.encode(.assign(Samples.assignment), into: &bytes)
        let all = Array(bytes.readableBytesView)
        for cut in [1, 5, 6, all.count - 1] {
            var parser = FrameParser()
            parser.append(contentsOf: all[..<cut])
            #expect(try parser.next() == nil)
            Self.expectError(.truncatedFrame, containing: "closed after \(cut) bytes") { try parser.finish() }
        }
    }

    @Test("an oversized frame is refused from its header, before the payload arrives")
    func oversized() {
        var parser = FrameParser(limits: WireLimits(maxFrameBytes: 1024, maxDecompressedBytes: 4096))
        parser.append(contentsOf: [0, 0, 4, 1, 0x22, 0])
        Self.expectError(.frameTooLarge, containing: "1025 bytes; the limit is 1024") { _ = try parser.next() }
        var huge = FrameParser()
        huge.append(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF, 0x21, 0])
        Self.expectError(.frameTooLarge, containing: "4294967295") { _ = try huge.next() }
    }

    @Test("undefined flag bits and compressed handshake frames are refused")
    func flags() {
        Self.expectError(.invalidFlags, containing: "0b10") {
            _ = try Self.decode(Self.rawFrame(type: 0x20, flags: 2, payload: [0, 0, 0, 1]))
        }
        Self.expectError(.invalidFlags, containing: "hello frame is compressed") {
            _ = try Self.decode(Self.rawFrame(type: 0x01, flags: 1, payload: [4, 1, 2, 3]))
        }
    }

    @Test("malformed payloads name the message and field")
    func malformed() {
        let cases: [(MessageType, [UInt8], String)] = [
            (.credits, [0, 0, 1], "credits.count: needs 4 bytes; 3 left"),
            (.credits, [0, 0, 0, 1, 9], "credits: 1 bytes left over"),
            (.heartbeat, [0, 0, 0, 0, 0, 0, 0, 1, 2], "heartbeat.is_reply: boolean byte is 2"),
            (.tokens, [0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF], "tokens.token_ids: count 4294967295 needs at least"),
            (.drain, [0, 0, 0, 2, 0xC3, 0x28], "drain.reason: 2 bytes are not valid UTF-8"),
            (.finish, [0, 0, 0, 0, 0, 0, 0, 1, 7], "finish.reason: is 7"),
            (.cancel, [], "cancel.request_id: needs 8 bytes; 0 left"),
        ]
        for (type, payload, text) in cases {
            Self.expectError(.malformedFrame, containing: text) {
                _ = try Self.decode(Self.rawFrame(type: type.rawValue, payload: payload))
            }
        }
    }

    @Test("assignment fields are checked: NaN floats, duplicate biases, unknown enums")
    func malformedAssignment() throws {
        var good = ByteBuffer()
        WireMessage.assign(Samples.assignment).encodePayload(into: &good)
        let bytes = Array(good.readableBytesView)
        // request_id 8 | timeout 4 | max_tokens 4 | ignore_eos 1 | speculation 1+4 | temperature 4 at offset 22.
        var nan = bytes
        nan.replaceSubrange(22..<26, with: [0x7F, 0xC0, 0, 0])
        Self.expectError(.malformedFrame, containing: "assign.temperature: float is nan") {
            _ = try Self.decode(Self.rawFrame(type: 0x21, payload: nan))
        }
        var speculation = bytes
        speculation[17] = 9
        Self.expectError(.malformedFrame, containing: "assign.speculation: kind 9") {
            _ = try Self.decode(Self.rawFrame(type: 0x21, payload: speculation))
        }
        var fixedZero = bytes
        fixedZero.replaceSubrange(17..<22, with: [2, 0, 0, 0, 0])
        Self.expectError(.malformedFrame, containing: "fixed, count >= 1") {
            _ = try Self.decode(Self.rawFrame(type: 0x21, payload: fixedZero))
        }
    }

    @Test("unknown frame types and bad magic are refused")
    func unknownAndMagic() {
        Self.expectError(.unknownFrameType, containing: "0x7e is not defined") {
            _ = try Self.decode(Self.rawFrame(type: 0x7E, payload: []))
        }
        Self.expectError(.badMagic, containing: "expected \"SPCW\"") {
            _ = try Self.decode(Self.rawFrame(type: 0x01, payload: Array("HTTP/1.1 200 OK\r\n\r\n".utf8) + Array(repeating: 0, count: 32)))
        }
    }

    @Test("corrupt zstd data is refused")
    func corruptCompression() throws {
        Self.expectError(.corruptCompression, containing: "does not decode") {
            _ = try Self.decode(Self.rawFrame(type: 0x22, flags: 1, payload: [20] + Array(repeating: 0xEE, count: 20)))
        }
        Self.expectError(.malformedFrame, containing: "valid uncompressed length") {
            _ = try Self.decode(Self.rawFrame(type: 0x22, flags: 1, payload: [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))
        }
    }

    @Test("a declared size over the limit is refused before decompressing")
    func bombDeclared() {
        let limits = WireLimits(maxFrameBytes: 1024, maxDecompressedBytes: 4096)
        var payload = ByteBuffer()
        payload.writeVarint(4097)
        payload.writeBytes([0x28, 0xB5, 0x2F, 0xFD])
        Self.expectError(.decompressedTooLarge, containing: "declares 4097 bytes uncompressed; the limit is 4096") {
            _ = try Self.decode(Self.rawFrame(type: 0x22, flags: 1, payload: Array(payload.readableBytesView)), limits: limits)
        }
    }

    @Test("zstd data that expands past its declared size is refused (decompression bomb)")
    func bombExpanding() throws {
        // 1 MiB of zeros compresses to a few dozen bytes; the frame claims it is 100 bytes.
        let compressor = try ZstdCompressor()
        var zstd = ByteBuffer()
        try compressor.compressFlushed(ByteBuffer(repeating: 0, count: 1 << 20), into: &zstd)
        #expect(zstd.readableBytes < 200)
        var payload = ByteBuffer()
        payload.writeVarint(100)
        payload.writeImmutableBuffer(zstd)
        Self.expectError(.decompressedTooLarge, containing: "decodes to more than the declared 100 bytes") {
            _ = try Self.decode(Self.rawFrame(type: 0x22, flags: 1, payload: Array(payload.readableBytesView)))
        }
        // Declared larger than what the data holds.
        var short = ByteBuffer()
        short.writeVarint(2 << 20)
        short.writeImmutableBuffer(zstd)
        Self.expectError(.decompressedTooLarge, containing: "decodes to 1048576 bytes; the frame declared 2097152") {
            _ = try Self.decode(Self.rawFrame(type: 0x22, flags: 1, payload: Array(short.readableBytesView)))
        }
    }

    @Test("a zstd window larger than the receiver accepts is refused")
    func hugeWindow() throws {
        let compressor = try ZstdCompressor(level: 1, windowLog: 27)
        var zstd = ByteBuffer()
        try compressor.compressFlushed(ByteBuffer(repeating: 7, count: 1000), into: &zstd)
        var payload = ByteBuffer()
        payload.writeVarint(1000)
        payload.writeImmutableBuffer(zstd)
        Self.expectError(.corruptCompression, containing: "does not decode") {
            _ = try Self.decode(Self.rawFrame(type: 0x22, flags: 1, payload: Array(payload.readableBytesView)))
        }
    }
}
