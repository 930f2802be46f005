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

@available(*, unavailable) extension WireEncoder: Sendable {}
