import NIOCore

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
