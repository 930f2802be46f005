/// Writes GGUF v3 files: metadata, tensor infos and the aligned data section. Used by tests and tools
/// to build small GGUF models; tensors are given in HF shape order and llama.cpp names.
public struct GGUFWriter {
    /// One tensor to write: `shape` in HF order (written as GGUF `ne`, reversed), `bytes` already in `dtype`.
    public struct TensorEntry: Sendable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var bytes: [UInt8]

        public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }
    }

    /// The whole file as bytes (for small models and tests).
    /// - Parameter metadata: written in this order; arrays take their element type from the first element
    ///   (empty arrays are written as arrays of strings).
    /// - Throws: `invalidValue` when a tensor's byte count does not match its shape and dtype.
    public static func encode(metadata: [(String, GGUFValue)], tensors: [TensorEntry], alignment: Int = 32) throws -> [UInt8] {
        var out: [UInt8] = Array("GGUF".utf8)
        append(UInt32(3), to: &out)
        append(UInt64(tensors.count), to: &out)
        append(UInt64(metadata.count + (alignment == 32 ? 0 : 1)), to: &out)
        for (key, value) in metadata {
            appendString(key, to: &out)
            append(typeCode(value), to: &out)
            appendValue(value, to: &out)
        }
        if alignment != 32 {
            appendString("general.alignment", to: &out)
            append(UInt32(4), to: &out)
            append(UInt32(alignment), to: &out)
        }
        var offset = 0
        for tensor in tensors {
            guard let expected = elementCount(tensor.shape).flatMap({ tensor.dtype.byteCount(elements: $0) }),
                  expected == tensor.bytes.count else {
                throw ModelFormatError(.invalidValue, file: "<gguf>", "tensor '\(tensor.name)' has \(tensor.bytes.count) bytes; shape \(describe(shape: tensor.shape)) x \(tensor.dtype.rawValue) needs another count")
            }
            appendString(tensor.name, to: &out)
            append(UInt32(tensor.shape.count), to: &out)
            for extent in tensor.shape.reversed() { append(UInt64(extent), to: &out) }
            append(tensor.dtype.ggmlType, to: &out)
            append(UInt64(offset), to: &out)
            offset += (tensor.bytes.count + alignment - 1) / alignment * alignment
        }
        for tensor in tensors {
            out += [UInt8](repeating: 0, count: (alignment - out.count % alignment) % alignment)
            out += tensor.bytes
        }
        return out
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func appendString(_ string: String, to out: inout [UInt8]) {
        append(UInt64(string.utf8.count), to: &out)
        out.append(contentsOf: string.utf8)
    }

    static func typeCode(_ value: GGUFValue) -> UInt32 {
        switch value {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }

    private static func appendValue(_ value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let v): appendString(v, to: &out)
        case .array(let elements):
            append(elements.first.map(typeCode) ?? 8, to: &out)
            append(UInt64(elements.count), to: &out)
            for element in elements { appendValue(element, to: &out) }
        }
    }
}

extension DType {
    /// Quantizes f32 values to GGUF Q8_0 blocks the way ggml's reference quantizer does
    /// (d = max|x| / 127 stored as f16, q = round(x / d)). `values.count` must be a multiple of 32.
    public static func quantizeQ8_0(_ values: [Float]) -> [UInt8] {
        precondition(values.count % 32 == 0, "Q8_0 needs whole blocks of 32 values")
        var out = [UInt8]()
        out.reserveCapacity(values.count / 32 * 34)
        for block in stride(from: 0, to: values.count, by: 32) {
            let amax = values[block..<(block + 32)].reduce(Float(0)) { max($0, abs($1)) }
            let d = amax / 127
            let inverse = d == 0 ? 0 : 1 / d
            let bits = halfBitsFromFloat(d)
            out.append(UInt8(bits & 0xFF))
            out.append(UInt8(bits >> 8))
            for value in values[block..<(block + 32)] {
                out.append(UInt8(bitPattern: Int8((value * inverse).rounded(.toNearestOrAwayFromZero))))
            }
        }
        return out
    }
}
