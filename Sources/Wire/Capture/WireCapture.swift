public import NIOCore

/// The frames one side sent on one connection, uncompressed, with their times: the contents of a
/// capture file (`Protocols/wire.md`, "Diagnostics: frame capture"). A diagnostic, not part of the
/// protocol: nothing is captured unless `SPECULA_WIRE_CAPTURE` is set.
///
/// File layout, integers big-endian:
/// ```
/// header  magic "SPCWCAP1" (8) | sender u8 (0 router, 1 worker) | started_unix_ns u64
/// record  queued_ns u64 | written_ns u64 | type u8 | length u32 | payload[length]
/// ```
/// `queued_ns` is when the frame was handed to the encoder and `written_ns` when its bytes reached the
/// socket (the write completed), both monotonic nanoseconds since `started_unix_ns`; `written_ns` is
/// `UInt64.max` for a frame whose write failed (the connection closed first).
public struct WireCapture: Sendable, Equatable {
    public enum Sender: UInt8, Sendable, CustomStringConvertible {
        case router = 0
        case worker = 1

        public var description: String { self == .router ? "router" : "worker" }
    }

    public struct Record: Sendable, Equatable {
        public var type: MessageType
        /// The payload as the encoder received it, before compression.
        public var payload: ByteBuffer
        public var queuedNanoseconds: UInt64
        /// Nil when the write failed.
        public var writtenNanoseconds: UInt64?

        public init(type: MessageType, payload: ByteBuffer, queuedNanoseconds: UInt64, writtenNanoseconds: UInt64?) {
            self.type = type
            self.payload = payload
            self.queuedNanoseconds = queuedNanoseconds
            self.writtenNanoseconds = writtenNanoseconds
        }
    }

    public static let magic: [UInt8] = Array("SPCWCAP1".utf8)
    static let headerSize = 8 + 1 + 8
    static let recordHeaderSize = 8 + 8 + 1 + 4

    public var sender: Sender
    public var startedUnixNanoseconds: UInt64
    public var records: [Record]

    public init(sender: Sender, startedUnixNanoseconds: UInt64, records: [Record] = []) {
        self.sender = sender
        self.startedUnixNanoseconds = startedUnixNanoseconds
        self.records = records
    }

    /// Parses a whole capture file.
    /// - Throws: ``WireCaptureError`` naming the offset of the first bad byte.
    public init(bytes: ByteBuffer) throws(WireCaptureError) {
        var input = bytes
        guard let magic = input.readBytes(length: Self.magic.count), magic == Self.magic else {
            throw WireCaptureError("not a wire capture: it does not start with 'SPCWCAP1'")
        }
        guard let header = input.readMultipleIntegers(as: (UInt8, UInt64).self) else {
            throw WireCaptureError("the capture header ends after \(bytes.readableBytes) bytes; expected \(Self.headerSize)")
        }
        guard let sender = Sender(rawValue: header.0) else {
            throw WireCaptureError("sender byte \(header.0) at offset 8 is neither 0 (router) nor 1 (worker)")
        }
        self.init(sender: sender, startedUnixNanoseconds: header.1)
        while input.readableBytes > 0 {
            let offset = input.readerIndex - bytes.readerIndex
            guard let fields = input.readMultipleIntegers(as: (UInt64, UInt64, UInt8, UInt32).self),
                  let payload = input.readSlice(length: Int(fields.3))
            else {
                throw WireCaptureError("record \(records.count + 1) at offset \(offset) is truncated: the file ends inside it")
            }
            records.append(Record(type: MessageType(rawValue: fields.2), payload: payload, queuedNanoseconds: fields.0,
                                  writtenNanoseconds: fields.1 == .max ? nil : fields.1))
        }
    }

    /// The file's bytes.
    public func serialized() -> ByteBuffer {
        var output = ByteBuffer()
        Self.writeHeader(sender: sender, startedUnixNanoseconds: startedUnixNanoseconds, into: &output)
        for record in records { Self.write(record, into: &output) }
        return output
    }

    static func writeHeader(sender: Sender, startedUnixNanoseconds: UInt64, into output: inout ByteBuffer) {
        output.writeBytes(magic)
        output.writeMultipleIntegers(sender.rawValue, startedUnixNanoseconds)
    }

    static func write(_ record: Record, into output: inout ByteBuffer) {
        output.writeMultipleIntegers(record.queuedNanoseconds, record.writtenNanoseconds ?? .max, record.type.rawValue,
                                     UInt32(record.payload.readableBytes))
        output.writeImmutableBuffer(record.payload)
    }
}

/// A capture file that cannot be written or read, with a one-line reason.
public struct WireCaptureError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
