public import NIOCore

/// Cuts a byte stream into frames: a pure value, fed bytes as they arrive, that yields each complete
/// frame and rejects a bad header as soon as its six bytes are in, before the payload is buffered.
///
/// It checks the header only (length against ``WireLimits/maxFrameBytes``, flag bits); payloads are
/// decompressed and parsed by ``WireDecoder``.
public struct FrameParser: Sendable {
    public let limits: WireLimits
    private var buffer = ByteBuffer()

    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    /// Bytes received and not yet returned as frames.
    public var bufferedBytes: Int { buffer.readableBytes }

    /// Appends bytes received from the peer.
    public mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    /// Appends bytes received from the peer.
    public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        buffer.writeBytes(bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    /// - Throws: `WireError` `.frameTooLarge` or `.invalidFlags`; the connection must then close.
    public mutating func next() throws(WireError) -> Frame? {
        guard let frame = try Self.parse(&buffer, limits: limits) else { return nil }
        if buffer.readableBytes == 0 { buffer.clear() } else if buffer.readerIndex > 64 << 10 { buffer.discardReadBytes() }
        return frame
    }

    /// Reads one frame from the front of `buffer`, leaving it untouched when the frame is incomplete.
    /// Shared with ``FrameDecoder``, which owns NIO's cumulation buffer.
    static func parse(_ buffer: inout ByteBuffer, limits: WireLimits) throws(WireError) -> Frame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
              let type = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self),
              let rawFlags = buffer.getInteger(at: buffer.readerIndex + 5, as: UInt8.self)
        else { return nil }
        guard UInt64(length) <= UInt64(limits.maxFrameBytes) else {
            throw WireError(.frameTooLarge, "frame type 0x\(hex(type)) declares a payload of \(length) bytes; the limit is \(limits.maxFrameBytes)")
        }
        let flags = Frame.Flags(rawValue: rawFlags)
        guard flags.isSubset(of: .defined) else {
            throw WireError(.invalidFlags, "frame type 0x\(hex(type)) has flags 0b\(String(rawFlags, radix: 2)); only bit 0 (compressed) is defined")
        }
        guard buffer.readableBytes >= Frame.headerSize + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: Frame.headerSize)
        guard let payload = buffer.readSlice(length: Int(length)) else { return nil }
        return Frame(type: type, flags: flags, payload: payload)
    }

    /// Throws `.truncatedFrame` if the peer closed with part of a frame buffered.
    public func finish() throws(WireError) {
        try Self.checkEnd(buffer)
    }

    static func checkEnd(_ buffer: ByteBuffer) throws(WireError) {
        guard buffer.readableBytes > 0 else { return }
        let declared = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self).map { " of \(Int($0) + Frame.headerSize)" } ?? ""
        throw WireError(.truncatedFrame, "the connection closed after \(buffer.readableBytes) bytes of a frame\(declared) bytes")
    }
}

func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16)
    return digits.count == 1 ? "0" + digits : digits
}
