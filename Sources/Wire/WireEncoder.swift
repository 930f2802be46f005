public import NIOCore

/// Turns messages into frames for one connection, compressing payloads of at least
/// ``compressionThreshold`` bytes with the connection's zstd stream (`Protocols/wire.md`, "Compression").
///
/// Not `Sendable`: it owns the sending half of the connection's compression stream, so every frame of
/// the connection must pass through the same encoder, in order.
public struct WireEncoder {
    /// Payloads of fewer bytes go uncompressed; nil never compresses.
    public let compressionThreshold: Int?
    /// The peer's limits: the encoder refuses to send what the peer would reject.
    public let limits: WireLimits
    private let compressor: ZstdCompressor
    private var scratch = ByteBuffer()

    /// The default threshold: smaller payloads gain too little to be worth a zstd call (measured in
    /// `Protocols/wire.md`).
    public static let defaultCompressionThreshold = 64

    public init(compressionThreshold: Int? = WireEncoder.defaultCompressionThreshold, limits: WireLimits = .default) throws(WireError) {
        self.compressionThreshold = compressionThreshold
        self.limits = limits
        self.compressor = try ZstdCompressor()
    }

    /// Appends one frame carrying `message` to `output`.
    /// - Throws: `.frameTooLarge` if the payload would exceed the peer's limits (nothing is written).
    public mutating func encode(_ message: WireMessage, into output: inout ByteBuffer) throws(WireError) {
        scratch.clear()
        message.encodePayload(into: &scratch)
        let size = scratch.readableBytes
        guard size <= limits.maxDecompressedBytes else {
            throw WireError(.frameTooLarge, "\(message.type) payload is \(size) bytes; the peer accepts at most \(limits.maxDecompressedBytes)")
        }
        let start = output.writerIndex
        output.writeMultipleIntegers(UInt32(0), message.type.rawValue)
        if let threshold = compressionThreshold, size >= threshold, !message.type.isHandshake {
            output.writeInteger(Frame.Flags.compressed.rawValue)
            output.writeVarint(UInt32(size))
            try compressor.compressFlushed(scratch, into: &output)
        } else {
            output.writeInteger(UInt8(0))
            output.writeImmutableBuffer(scratch)
        }
        let length = output.writerIndex - start - Frame.headerSize
        guard length <= limits.maxFrameBytes else {
            // The stream already holds this payload, so the connection cannot go on in step: callers close it.
            output.moveWriterIndex(to: start)
            throw WireError(.frameTooLarge, "\(message.type) frame is \(length) bytes on the wire; the peer accepts at most \(limits.maxFrameBytes)")
        }
        output.setInteger(UInt32(length), at: start)
    }
}

/// Turns frames into messages for one connection: decompresses with the connection's zstd stream and
/// parses the payload. Not `Sendable`, for the same reason as ``WireEncoder``.
public struct WireDecoder {
    public let limits: WireLimits
    private let decompressor: ZstdDecompressor
    private var scratch = ByteBuffer()

    public init(limits: WireLimits = .default) throws(WireError) {
        self.limits = limits
        self.decompressor = try ZstdDecompressor()
    }

    /// The message a frame carries.
    /// - Throws: `WireError`; any error leaves the compression stream out of step, so the connection
    ///   must close.
    public mutating func decode(_ frame: Frame) throws(WireError) -> WireMessage {
        let type = MessageType(rawValue: frame.type)
        guard frame.flags.contains(.compressed) else {
            return try WireMessage(type: type, payload: frame.payload)
        }
        guard !type.isHandshake else {
            throw WireError(.invalidFlags, "\(type) frame is compressed; handshake and error frames must not be")
        }
        var payload = frame.payload
        guard let size = payload.readVarint() else {
            throw WireError(.malformedFrame, "compressed \(type) frame does not start with a valid uncompressed length (LEB128, at most 5 bytes)")
        }
        guard size <= UInt64(limits.maxDecompressedBytes) else {
            throw WireError(.decompressedTooLarge, "compressed \(type) frame declares \(size) bytes uncompressed; the limit is \(limits.maxDecompressedBytes)")
        }
        scratch.clear()
        try decompressor.decompressFlushed(payload, size: Int(size), into: &scratch)
        return try WireMessage(type: type, payload: scratch)
    }
}

extension ByteBuffer {
    /// Unsigned LEB128: 7 bits per byte, low bits first, high bit set on all but the last byte.
    mutating func writeVarint(_ value: UInt32) {
        var value = value
        while value >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        writeInteger(UInt8(value))
    }

    /// Reads an unsigned LEB128 of at most 5 bytes (32 bits); nil if it is longer or runs out.
    mutating func readVarint() -> UInt64? {
        var value: UInt64 = 0
        for index in 0..<5 {
            guard let byte = readInteger(as: UInt8.self) else { return nil }
            value |= UInt64(byte & 0x7F) << (7 * UInt64(index))
            if byte & 0x80 == 0 { return value }
        }
        return nil
    }
}

@available(*, unavailable) extension WireEncoder: Sendable {}
@available(*, unavailable) extension WireDecoder: Sendable {}
