/// A bounds-checked little-endian cursor over a mapped file. Every read checks the remaining length
/// first, so a corrupt header throws `truncated` instead of reading past the mapping.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, file: String, offset: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    /// Throws `truncated` unless `count` more bytes exist; `what` names the field being read.
    func require(_ count: Int, _ what: @autoclosure () -> String) throws {
        guard count >= 0, count <= remaining else {
            throw ModelFormatError(.truncated, file: file, "file ends at byte \(bytes.count) while reading \(what()) at offset \(offset) (needs \(count) bytes)")
        }
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try require(MemoryLayout<T>.size, what())
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return value
    }

    /// A GGUF string: uint64 length then UTF-8 bytes (invalid UTF-8 is repaired, not fatal).
    mutating func readString(maxBytes: Int, _ what: @autoclosure () -> String) throws -> String {
        let length = try read(UInt64.self, what())
        guard length <= UInt64(maxBytes) else {
            throw ModelFormatError(.badHeader, file: file, "\(what()) at offset \(offset - 8) has length \(length); expected at most \(maxBytes) bytes")
        }
        try require(Int(length), what())
        let string = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + Int(length))]), as: UTF8.self)
        offset += Int(length)
        return string
    }

    mutating func align(to alignment: Int) {
        offset = (offset + alignment - 1) / alignment * alignment
    }
}
