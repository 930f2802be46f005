public import NIOCore

/// Bytes → ``WireMessage``s for one connection; wrap it as `ByteToMessageHandler(try FrameDecoder())`.
///
/// Errors (`WireError`) reach `errorCaught`; ``WireSessionHandler`` answers them with an `error` frame and
/// closes this connection only. No bytes are decoded after an error.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = WireMessage

    private var decoder: WireDecoder

    public init(limits: WireLimits = .default) throws(WireError) {
        decoder = try WireDecoder(limits: limits)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try FrameParser.parse(&buffer, limits: decoder.limits) else { return .needMoreData }
        let message = try decoder.decode(frame)
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        try FrameParser.checkEnd(buffer)
        return .needMoreData
    }
}

@available(*, unavailable) extension FrameDecoder: Sendable {}
