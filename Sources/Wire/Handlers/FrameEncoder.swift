public import NIOCore

/// ``WireMessage``s → bytes for one connection; wrap it as `MessageToByteHandler(try FrameEncoder())`.
public final class FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = WireMessage

    private var encoder: WireEncoder

    /// - Parameters:
    ///   - compressionThreshold: payloads of at least this many bytes are compressed; nil: none.
    ///   - limits: the peer's limits.
    public init(compressionThreshold: Int? = WireEncoder.defaultCompressionThreshold, limits: WireLimits = .default) throws(WireError) {
        encoder = try WireEncoder(compressionThreshold: compressionThreshold, limits: limits)
    }

    public func encode(data: WireMessage, out: inout ByteBuffer) throws {
        try encoder.encode(data, into: &out)
    }
}

@available(*, unavailable) extension FrameEncoder: Sendable {}
