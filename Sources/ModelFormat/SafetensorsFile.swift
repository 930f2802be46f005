import Foundation

/// One mapped `.safetensors` file: an 8-byte little-endian header length, a JSON header
/// (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`), then the data.
struct SafetensorsFile {
    /// Largest JSON header accepted (the reference implementation's limit): a corrupt length never allocates more.
    static let maxHeaderBytes = 100 << 20

    let mapping: MappedFile
    let tensors: [Tensor]
    let metadata: [String: String]

    /// Maps and parses `path`, checking every tensor's dtype, shape and byte range.
    init(path: String) throws {
        mapping = try MappedFile(path: path)
        let bytes = mapping.bytes
        func fail(_ code: ModelFormatError.Code, _ message: String) -> ModelFormatError {
            ModelFormatError(code, file: path, message)
        }
        guard bytes.count >= 8 else {
            throw fail(.truncated, "file is \(bytes.count) bytes; a safetensors file starts with an 8-byte header length")
        }
        let headerLength = bytes.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength >= 2, headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw fail(.badHeader, "header length is \(headerLength) bytes; expected 2...\(Self.maxHeaderBytes) (not a safetensors file?)")
        }
        let dataStart = 8 + Int(headerLength)
        guard dataStart <= bytes.count else {
            throw fail(.truncated, "header claims \(headerLength) bytes but the file has only \(bytes.count - 8) after the length")
        }
        guard bytes[8] == UInt8(ascii: "{") else {
            throw fail(.badMagic, "header does not start with '{' (byte 0x\(String(bytes[8], radix: 16))); not a safetensors file")
        }
        let headerData = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: bytes.baseAddress! + 8),
                              count: Int(headerLength), deallocator: .none)
        guard let header = try JSONValue.parse(headerData, file: path, what: "safetensors header").objectValue else {
            throw fail(.badHeader, "safetensors header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var tensors: [Tensor] = []
        tensors.reserveCapacity(header.count)
        for (name, entry) in header {
            if name == "__metadata__" {
                for (key, value) in entry.objectValue ?? [:] { metadata[key] = value.stringValue ?? "\(value)" }
                continue
            }
            tensors.append(try Self.tensor(name: name, entry: entry, dataStart: dataStart, mapping: mapping))
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func tensor(name: String, entry: JSONValue, dataStart: Int, mapping: MappedFile) throws -> Tensor {
        let path = mapping.path
        func fail(_ code: ModelFormatError.Code, _ message: String) -> ModelFormatError {
            ModelFormatError(code, file: path, "tensor '\(name)' " + message)
        }
        guard let fields = entry.objectValue else { throw fail(.badHeader, "entry is \(entry.kind); expected an object") }
        guard let dtypeName = fields["dtype"]?.stringValue else { throw fail(.badHeader, "has no string 'dtype'") }
        guard let dtype = DType(safetensorsName: dtypeName) else {
            throw fail(.unsupportedDType, "has dtype \(dtypeName); supported: F32, F16, BF16")
        }
        guard let dims = fields["shape"]?.arrayValue else { throw fail(.badHeader, "has no 'shape' array") }
        let shape = dims.compactMap(\.intValue)
        guard shape.count == dims.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw fail(.badHeader, "has shape \(dims.map { "\($0)" }); expected non-negative integers")
        }
        guard let offsets = fields["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, end >= begin else {
            throw fail(.badHeader, "has data_offsets \(fields["data_offsets"].map { "\($0)" } ?? "missing"); expected [begin, end] with 0 <= begin <= end")
        }
        guard let elements = elementCount(shape), let expectedBytes = dtype.byteCount(elements: elements) else {
            throw fail(.badHeader, "has shape \(describe(shape: shape)), too large to address")
        }
        guard end - begin == expectedBytes else {
            throw fail(.badHeader, "has \(end - begin) bytes (data_offsets [\(begin), \(end)]); expected \(expectedBytes) for shape \(describe(shape: shape)) x \(dtypeName)")
        }
        let available = mapping.bytes.count - dataStart
        guard end <= available else {
            throw ModelFormatError(.truncated, file: path, "tensor '\(name)' data ends at byte \(dataStart + end) but the file has \(mapping.bytes.count) bytes (file truncated?)")
        }
        let data = UnsafeRawBufferPointer(rebasing: mapping.bytes[(dataStart + begin)..<(dataStart + end)])
        return Tensor(name: name, dtype: dtype, shape: shape, data: data, storage: mapping)
    }
}

/// Product of `shape`, or nil on overflow.
func elementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for dim in shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: dim)
        if overflow { return nil }
        count = product
    }
    return count
}
