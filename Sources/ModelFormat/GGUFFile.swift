/// One mapped GGUF (v2/v3) file: header, typed metadata, tensor infos and the aligned data section.
/// Tensors keep llama.cpp names and are reported in HF shape order (GGUF `ne` reversed).
struct GGUFFile {
    // Limits that keep a corrupt length from allocating gigabytes; real files stay far below them.
    static let maxStringBytes = 1 << 24
    static let maxKeyBytes = 1 << 16
    static let maxArrayElements = 1 << 22
    static let maxArrayDepth = 4
    static let maxTensors = 1 << 20

    let mapping: MappedFile
    let version: UInt32
    let metadata: [String: GGUFValue]
    /// llama.cpp name → tensor (name field is the llama.cpp name), in file order.
    let tensors: [Tensor]

    init(path: String) throws {
        mapping = try MappedFile(path: path)
        var reader = ByteReader(mapping.bytes, file: path)
        let magic = try reader.read(UInt32.self, "the magic")
        guard magic == 0x4655_4747 else {  // "GGUF" little-endian
            throw ModelFormatError(.badMagic, file: path, "starts with bytes \(Self.hex(mapping.bytes.prefix(4))); expected 'GGUF' (47 47 55 46)")
        }
        version = try reader.read(UInt32.self, "the version")
        guard version == 2 || version == 3 else {
            throw ModelFormatError(.unsupportedVersion, file: path, "GGUF version is \(version); expected 3 (or 2)")
        }
        let tensorCount = try reader.read(UInt64.self, "the tensor count")
        let kvCount = try reader.read(UInt64.self, "the metadata count")
        // Each tensor info takes at least 24 bytes and each key/value at least 12: check before reserving.
        try Self.checkCount(tensorCount, limit: Self.maxTensors, minimumBytes: 24, reader: reader, what: "tensor count")
        try Self.checkCount(kvCount, limit: Self.maxArrayElements, minimumBytes: 12, reader: reader, what: "metadata count")
        var metadata: [String: GGUFValue] = [:]
        for index in 0..<Int(kvCount) {
            let key = try reader.readString(maxBytes: Self.maxKeyBytes, "metadata key #\(index)")
            let type = try reader.read(UInt32.self, "the type of metadata '\(key)'")
            metadata[key] = try Self.readValue(type: type, from: &reader, key: key, depth: 0)
        }
        self.metadata = metadata
        tensors = try Self.readTensors(count: Int(tensorCount), reader: &reader, metadata: metadata, mapping: mapping)
    }

    // MARK: - Metadata values

    private static func readValue(type: UInt32, from reader: inout ByteReader, key: String, depth: Int) throws -> GGUFValue {
        let what = "metadata '\(key)'"
        switch type {
        case 0: return .uint8(try reader.read(UInt8.self, what))
        case 1: return .int8(try reader.read(Int8.self, what))
        case 2: return .uint16(try reader.read(UInt16.self, what))
        case 3: return .int16(try reader.read(Int16.self, what))
        case 4: return .uint32(try reader.read(UInt32.self, what))
        case 5: return .int32(try reader.read(Int32.self, what))
        case 6: return .float32(Float(bitPattern: try reader.read(UInt32.self, what)))
        case 7:
            let byte = try reader.read(UInt8.self, what)
            guard byte <= 1 else {
                throw ModelFormatError(.badHeader, file: reader.file, "\(what) is a bool with byte value \(byte); expected 0 or 1")
            }
            return .bool(byte == 1)
        case 8: return .string(try reader.readString(maxBytes: maxStringBytes, what))
        case 9: return try readArray(from: &reader, key: key, depth: depth)
        case 10: return .uint64(try reader.read(UInt64.self, what))
        case 11: return .int64(try reader.read(Int64.self, what))
        case 12: return .float64(Double(bitPattern: try reader.read(UInt64.self, what)))
        default:
            throw ModelFormatError(.badHeader, file: reader.file, "\(what) has value type \(type); expected 0...12")
        }
    }

    private static func readArray(from reader: inout ByteReader, key: String, depth: Int) throws -> GGUFValue {
        guard depth < maxArrayDepth else {
            throw ModelFormatError(.badHeader, file: reader.file, "metadata '\(key)' nests arrays deeper than \(maxArrayDepth) levels")
        }
        let elementType = try reader.read(UInt32.self, "the element type of metadata '\(key)'")
        let count = try reader.read(UInt64.self, "the length of metadata '\(key)'")
        let minimumElementBytes: UInt64 = switch elementType {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 8, 10, 11, 12: 8
        case 9: 12
        default: 1
        }
        try checkCount(count, limit: maxArrayElements, minimumBytes: minimumElementBytes, reader: reader, what: "length of metadata '\(key)'")
        var elements: [GGUFValue] = []
        elements.reserveCapacity(Int(count))
        for _ in 0..<Int(count) {
            elements.append(try readValue(type: elementType, from: &reader, key: key, depth: depth + 1))
        }
        return .array(elements)
    }

    /// A count above `limit` is corrupt (`badHeader`); one whose elements cannot fit in the rest of the file
    /// means the file was cut short (`truncated`). Either way nothing of that size is allocated.
    private static func checkCount(_ count: UInt64, limit: Int, minimumBytes: UInt64, reader: ByteReader, what: String) throws {
        guard count <= UInt64(limit) else {
            throw ModelFormatError(.badHeader, file: reader.file, "\(what) is \(count); expected at most \(limit) (corrupt header)")
        }
        guard count * minimumBytes <= UInt64(reader.remaining) else {
            throw ModelFormatError(.truncated, file: reader.file, "\(what) is \(count), but only \(reader.remaining) bytes follow at offset \(reader.offset) (file truncated?)")
        }
    }

    // MARK: - Tensor infos

    private struct Info {
        var name: String, ne: [Int], type: UInt32, offset: UInt64
    }

    private static func readTensors(count: Int, reader: inout ByteReader, metadata: [String: GGUFValue], mapping: MappedFile) throws -> [Tensor] {
        let file = reader.file
        var infos: [Info] = []
        infos.reserveCapacity(count)
        for index in 0..<count {
            let name = try reader.readString(maxBytes: maxKeyBytes, "the name of tensor #\(index)")
            let dims = try reader.read(UInt32.self, "the dimension count of tensor '\(name)'")
            guard (1...4).contains(dims) else {
                throw ModelFormatError(.badHeader, file: file, "tensor '\(name)' has \(dims) dimensions; expected 1...4")
            }
            var ne: [Int] = []
            for _ in 0..<dims {
                let extent = try reader.read(UInt64.self, "the shape of tensor '\(name)'")
                guard extent <= UInt64(Int32.max) else {
                    throw ModelFormatError(.badHeader, file: file, "tensor '\(name)' has a dimension of \(extent); expected at most \(Int32.max)")
                }
                ne.append(Int(extent))
            }
            let type = try reader.read(UInt32.self, "the type of tensor '\(name)'")
            let offset = try reader.read(UInt64.self, "the data offset of tensor '\(name)'")
            infos.append(Info(name: name, ne: ne, type: type, offset: offset))
        }
        let alignment = try Self.alignment(metadata, file: file)
        reader.align(to: alignment)
        let dataStart = reader.offset
        // A file without tensors may end right after its metadata, before the alignment padding.
        guard infos.isEmpty || dataStart <= mapping.bytes.count else {
            throw ModelFormatError(.truncated, file: file, "data section starts at byte \(dataStart) but the file has \(mapping.bytes.count) bytes")
        }
        return try infos.map { try tensor($0, dataStart: dataStart, alignment: alignment, mapping: mapping) }
    }

    private static func alignment(_ metadata: [String: GGUFValue], file: String) throws -> Int {
        guard let value = metadata["general.alignment"] else { return 32 }
        guard let alignment = value.int, alignment > 0, alignment <= 1 << 16, alignment & (alignment - 1) == 0 else {
            throw ModelFormatError(.badHeader, file: file, "general.alignment is \(value); expected a power of two up to 65536")
        }
        return alignment
    }

    private static func tensor(_ info: Info, dataStart: Int, alignment: Int, mapping: MappedFile) throws -> Tensor {
        let file = mapping.path
        guard let dtype = DType(ggmlType: info.type) else {
            throw ModelFormatError(.unsupportedDType, file: file, "tensor '\(info.name)' has ggml type \(info.type) (\(ggmlTypeName(info.type))); supported: F32 (0), F16 (1), Q8_0 (8), BF16 (30)")
        }
        let shape = Array(info.ne.reversed())  // GGUF ne[0] is the innermost (contiguous) dimension
        guard let elements = elementCount(shape), let size = dtype.byteCount(elements: elements),
              info.ne[0] % dtype.blockElements == 0 else {
            throw ModelFormatError(.badHeader, file: file, "tensor '\(info.name)' has shape \(describe(shape: shape)) (ne \(describe(shape: info.ne))); \(dtype.rawValue) needs whole blocks of \(dtype.blockElements) along ne[0]")
        }
        guard info.offset % UInt64(alignment) == 0 else {
            throw ModelFormatError(.badHeader, file: file, "tensor '\(info.name)' data offset \(info.offset) is not a multiple of the alignment \(alignment)")
        }
        let available = mapping.bytes.count - dataStart
        guard info.offset <= UInt64(available), size <= available - Int(info.offset) else {
            throw ModelFormatError(.truncated, file: file, "tensor '\(info.name)' data ends at byte \(UInt64(dataStart) + info.offset + UInt64(size)) but the file has \(mapping.bytes.count) bytes (file truncated?)")
        }
        let begin = dataStart + Int(info.offset)
        let data = UnsafeRawBufferPointer(rebasing: mapping.bytes[begin..<(begin + size)])
        return Tensor(name: info.name, dtype: dtype, shape: shape, data: data, storage: mapping)
    }

    static func ggmlTypeName(_ type: UInt32) -> String {
        let names: [UInt32: String] = [
            0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K",
            11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS",
            19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32",
            27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
        ]
        return names[type] ?? "unknown"
    }

    static func hex(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
