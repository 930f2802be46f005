public import NIOCore

/// One frame as it crosses the wire: `length: u32 | type: u8 | flags: u8 | payload[length]`, integers
/// big-endian (`Protocols/wire.md`, "Frames"). The payload here is as received: still compressed
/// when ``flags`` has ``Flags/compressed``.
public struct Frame: Sendable, Equatable {
    /// Bytes before the payload: length (4), type (1), flags (1).
    public static let headerSize = 6

    /// The frame type byte; see ``MessageType``.
    public var type: UInt8
    public var flags: Flags
    public var payload: ByteBuffer

    public init(type: UInt8, flags: Flags = [], payload: ByteBuffer) {
        self.type = type
        self.flags = flags
        self.payload = payload
    }

    /// The flag bits of a frame header.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// Bit 0: the payload is `uncompressed length: u32` followed by zstd data from the sender's
        /// per-connection compression stream.
        public static let compressed = Flags(rawValue: 1)
        /// The bits this version defines; a frame with any other bit set is rejected.
        public static let defined: Flags = [.compressed]
    }
}

/// The sizes a receiver accepts; a frame over either limit is a connection error (`Protocols/wire.md`,
/// "Limits").
public struct WireLimits: Sendable, Equatable {
    /// Largest payload as it crosses the wire (after compression), in bytes.
    public var maxFrameBytes: Int
    /// Largest payload after decompression, in bytes.
    public var maxDecompressedBytes: Int

    public init(maxFrameBytes: Int = 1 << 20, maxDecompressedBytes: Int = 4 << 20) {
        precondition(maxFrameBytes > 0 && maxFrameBytes <= Int(UInt32.max), "maxFrameBytes out of range")
        precondition(maxDecompressedBytes >= maxFrameBytes, "maxDecompressedBytes below maxFrameBytes")
        self.maxFrameBytes = maxFrameBytes
        self.maxDecompressedBytes = maxDecompressedBytes
    }

    /// 1 MiB on the wire, 4 MiB decompressed: a 128k-token prompt as ids is 512 KiB.
    public static let `default` = WireLimits()
}
