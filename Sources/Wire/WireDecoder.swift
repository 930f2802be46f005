public import NIOCore

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

@available(*, unavailable) extension WireDecoder: Sendable {}
