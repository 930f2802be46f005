import NIOCore

/// Reads the fields of one payload, throwing `.malformedFrame` with the message and field name when a
/// field runs past the end, a count cannot fit in the bytes left, or text is not UTF-8.
///
/// Counts are checked against the bytes left *before* anything is allocated, so a payload cannot make
/// the receiver reserve more memory than the payload itself (times the element's in-memory size).
struct PayloadReader {
    var buffer: ByteBuffer
    /// The message being read, for error messages (`"assign"`).
    let message: String

    init(_ buffer: ByteBuffer, message: String) {
        self.buffer = buffer
        self.message = message
    }

    func malformed(_ field: String, _ detail: String) -> WireError {
        WireError(.malformedFrame, "\(message).\(field): \(detail)")
    }

    mutating func integer<T: FixedWidthInteger>(_ field: String, as: T.Type = T.self) throws(WireError) -> T {
        guard let value = buffer.readInteger(as: T.self) else {
            throw malformed(field, "needs \(MemoryLayout<T>.size) bytes; \(buffer.readableBytes) left in the payload")
        }
        return value
    }

    mutating func bool(_ field: String) throws(WireError) -> Bool {
        let byte: UInt8 = try integer(field)
        guard byte <= 1 else { throw malformed(field, "boolean byte is \(byte); expected 0 or 1") }
        return byte == 1
    }

    /// An IEEE-754 binary32, which must be finite.
    mutating func float(_ field: String) throws(WireError) -> Float {
        let value = Float(bitPattern: try integer(field, as: UInt32.self))
        guard value.isFinite else { throw malformed(field, "float is \(value); expected a finite number") }
        return value
    }

    mutating func bytes(_ field: String, count: Int) throws(WireError) -> [UInt8] {
        guard let bytes = buffer.readBytes(length: count) else {
            throw malformed(field, "needs \(count) bytes; \(buffer.readableBytes) left in the payload")
        }
        return bytes
    }

    /// `count: u32`, checked against the bytes left assuming each element takes at least
    /// `minimumElementBytes` on the wire.
    mutating func count(_ field: String, minimumElementBytes: Int) throws(WireError) -> Int {
        let count = Int(try integer(field, as: UInt32.self))
        guard count <= buffer.readableBytes / minimumElementBytes else {
            throw malformed(field, "count \(count) needs at least \(count * minimumElementBytes) bytes; \(buffer.readableBytes) left in the payload")
        }
        return count
    }

    /// `length: u32 | UTF-8 bytes`.
    mutating func string(_ field: String) throws(WireError) -> String {
        let length = try count(field, minimumElementBytes: 1)
        guard let slice = buffer.readSlice(length: length) else { throw malformed(field, "string runs past the payload") }
        guard let text = slice.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) else {
            throw malformed(field, "\(length) bytes are not valid UTF-8")
        }
        return text
    }

    /// A log-probability: a finite `f32` ≤ 0.
    mutating func logprob(_ field: String) throws(WireError) -> Float {
        let value = try float(field)
        guard value <= 0 else { throw malformed(field, "log-probability is \(value); expected a finite number ≤ 0") }
        return value
    }

    /// `length: u32 | raw bytes` (not necessarily UTF-8).
    mutating func byteString(_ field: String) throws(WireError) -> [UInt8] {
        try bytes(field, count: try count(field, minimumElementBytes: 1))
    }

    /// True while fields remain: a message's optional trailing section is present.
    var hasMore: Bool { buffer.readableBytes > 0 }

    mutating func tokenIDs(_ field: String) throws(WireError) -> [UInt32] {
        let count = try count(field, minimumElementBytes: 4)
        var ids: [UInt32] = []
        ids.reserveCapacity(count)
        for _ in 0..<count { ids.append(try integer(field)) }
        return ids
    }

    mutating func strings(_ field: String) throws(WireError) -> [String] {
        let count = try count(field, minimumElementBytes: 4)
        var strings: [String] = []
        strings.reserveCapacity(count)
        for index in 0..<count { strings.append(try string("\(field)[\(index)]")) }
        return strings
    }

    /// Fails if bytes are left over: every message has a fixed field list (its optional trailing
    /// section, if it has one, included).
    func finish() throws(WireError) {
        guard buffer.readableBytes == 0 else {
            throw WireError(.malformedFrame, "\(message): \(buffer.readableBytes) bytes left over after the last field")
        }
    }
}

extension ByteBuffer {
    mutating func writeWireBool(_ value: Bool) {
        writeInteger(value ? 1 : 0, as: UInt8.self)
    }

    mutating func writeWireFloat(_ value: Float) {
        writeInteger(value.bitPattern)
    }

    mutating func writeWireString(_ value: String) {
        let lengthIndex = writerIndex
        writeInteger(0, as: UInt32.self)
        let length = writeString(value)
        setInteger(UInt32(length), at: lengthIndex)
    }

    mutating func writeWireBytes(_ bytes: [UInt8]) {
        writeInteger(UInt32(bytes.count))
        writeBytes(bytes)
    }

    mutating func writeWireTokenIDs(_ ids: [UInt32]) {
        writeInteger(UInt32(ids.count))
        for id in ids { writeInteger(id) }
    }

    mutating func writeWireStrings(_ strings: [String]) {
        writeInteger(UInt32(strings.count))
        for string in strings { writeWireString(string) }
    }
}
