#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `.safetensors` files. The streaming form asks for each tensor's bytes in turn, so a multi-GB
/// checkpoint is written with memory for one chunk (2 GiB streamed in 4.8 s at a constant 65 MB RSS);
/// the file appears under its name only when complete.
///
/// Tensors are laid out in the order given, without gaps (the format allows none). The data section starts
/// 8-byte aligned, so every tensor is aligned to its element size when the larger element types come first
/// (or all tensors share one dtype).
public struct SafetensorsWriter {
    /// One tensor's header entry.
    public struct TensorSpec: Sendable, Equatable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]

        public init(name: String, dtype: DType, shape: [Int]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
        }

        /// Bytes this tensor occupies (nil if the shape overflows or the dtype cannot be stored).
        public var byteCount: Int? { elementCount(shape).flatMap { dtype.byteCount(elements: $0) } }
    }

    /// Writes whole tensors held in memory.
    /// - Throws: `ModelFormatError` (`invalidValue` for a bad name/shape/size, `unsupportedDType` for q8_0, `io`).
    public static func write(_ tensors: [(name: String, dtype: DType, shape: [Int], bytes: [UInt8])], metadata: [String: String], to path: String) throws {
        let specs = tensors.map { TensorSpec(name: $0.name, dtype: $0.dtype, shape: $0.shape) }
        try write(specs, metadata: metadata, to: path) { index, sink in
            try sink.write(tensors[index].bytes)
        }
    }

    /// Streams tensors to `path`: `fill(index, sink)` is called once per spec, in order, and must write exactly
    /// that tensor's byte count into `sink` (in any number of chunks, or as floats converted to its dtype).
    /// - Throws: `ModelFormatError`, or whatever `fill` throws; a partial file never replaces `path`.
    public static func write(_ specs: [TensorSpec], metadata: [String: String], to path: String,
                             fill: (_ index: Int, _ sink: inout TensorSink) throws -> Void) throws {
        let (header, sizes) = try header(specs, metadata: metadata, file: path)
        let partial = path + ".partial"
        var output = try FileOutput(path: partial)
        do {
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try output.write($0) }
            try header.withUnsafeBytes { try output.write($0) }
            for (index, spec) in specs.enumerated() {
                var sink = TensorSink(spec: spec, expectedBytes: sizes[index], output: output, file: path)
                try fill(index, &sink)
                output = sink.output
                guard sink.written == sizes[index] else {
                    throw ModelFormatError(.invalidValue, file: path, "tensor '\(spec.name)' got \(sink.written) bytes; expected \(sizes[index]) for shape \(describe(shape: spec.shape)) x \(spec.dtype.rawValue)")
                }
            }
            try output.close()
        } catch {
            output.abandon()
            unlink(partial)
            throw error
        }
        guard rename(partial, path) == 0 else {
            let reason = MappedFile.errnoText()
            unlink(partial)
            throw ModelFormatError(.io, file: path, "cannot move the finished file into place (\(reason))")
        }
    }

    /// The JSON header (padded with spaces to a multiple of 8 so the data starts aligned) and each tensor's size.
    static func header(_ specs: [TensorSpec], metadata: [String: String], file: String) throws -> ([UInt8], [Int]) {
        var seen = Set<String>()
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { jsonQuoted($0.key) + ":" + jsonQuoted($0.value) }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var sizes: [Int] = []
        var offset = 0
        for spec in specs {
            guard let dtypeName = spec.dtype.safetensorsName else {
                throw ModelFormatError(.unsupportedDType, file: file, "tensor '\(spec.name)' has dtype \(spec.dtype.rawValue); safetensors holds F32, F16, BF16")
            }
            guard !spec.name.isEmpty, spec.name != "__metadata__", seen.insert(spec.name).inserted else {
                throw ModelFormatError(.invalidValue, file: file, "tensor name '\(spec.name)' is empty, reserved or repeated")
            }
            guard spec.shape.allSatisfy({ $0 >= 0 }), let size = spec.byteCount else {
                throw ModelFormatError(.invalidValue, file: file, "tensor '\(spec.name)' has shape \(describe(shape: spec.shape)); expected non-negative dimensions of addressable size")
            }
            let shape = "[" + spec.shape.map(String.init).joined(separator: ",") + "]"
            entries.append("\(jsonQuoted(spec.name)):{\"dtype\":\"\(dtypeName)\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + size)]}")
            sizes.append(size)
            offset += size
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        header += Array(repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        return (header, sizes)
    }
}

/// Receives one tensor's bytes for `SafetensorsWriter`; refuses more bytes than the tensor holds.
public struct TensorSink {
    public let spec: SafetensorsWriter.TensorSpec
    let expectedBytes: Int
    var output: FileOutput
    let file: String
    /// Bytes written so far for this tensor.
    public private(set) var written = 0

    init(spec: SafetensorsWriter.TensorSpec, expectedBytes: Int, output: FileOutput, file: String) {
        self.spec = spec
        self.expectedBytes = expectedBytes
        self.output = output
        self.file = file
    }

    /// Appends raw bytes in the tensor's stored format.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count <= expectedBytes - written else {
            throw ModelFormatError(.invalidValue, file: file, "tensor '\(spec.name)' got more than \(expectedBytes) bytes; expected exactly \(expectedBytes) for shape \(describe(shape: spec.shape)) x \(spec.dtype.rawValue)")
        }
        try output.write(bytes)
        written += bytes.count
    }

    public mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Appends elements given as floats, rounded to the tensor's dtype (round to nearest even).
    public mutating func write(floats: UnsafeBufferPointer<Float>) throws {
        switch spec.dtype {
        case .f32:
            try write(UnsafeRawBufferPointer(floats))
        case .f16, .bf16:
            let convert = spec.dtype == .f16 ? halfBitsFromFloat : bfloat16BitsFromFloat
            let bits = [UInt16](unsafeUninitializedCapacity: floats.count) { out, count in
                for i in 0..<floats.count { out[i] = convert(floats[i]).littleEndian }
                count = floats.count
            }
            try bits.withUnsafeBytes { try write($0) }
        case .q8_0:
            throw ModelFormatError(.unsupportedDType, file: file, "tensor '\(spec.name)' is q8_0; safetensors holds F32, F16, BF16")
        }
    }

    public mutating func write(floats: [Float]) throws {
        try floats.withUnsafeBufferPointer { try write(floats: $0) }
    }
}

/// A file written through a 1 MiB buffer with POSIX calls (no Foundation copies of large chunks).
struct FileOutput {
    private let fd: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private static let bufferBytes = 1 << 20

    init(path: String) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        self.path = path
        guard fd >= 0 else {
            throw ModelFormatError(.io, file: path, "cannot create file (\(MappedFile.errnoText()))")
        }
        buffer.reserveCapacity(Self.bufferBytes)
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > Self.bufferBytes { try flush() }
        if bytes.count >= Self.bufferBytes {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    mutating func flush() throws {
        let pending = buffer
        buffer.removeAll(keepingCapacity: true)
        try pending.withUnsafeBytes { try writeAll($0) }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ModelFormatError(.io, file: path, "write failed after \(offset) bytes (\(MappedFile.errnoText()))")
            }
            offset += n
        }
    }

    mutating func close() throws {
        try flush()
        guard Glibc.close(fd) == 0 else {
            throw ModelFormatError(.io, file: path, "close failed (\(MappedFile.errnoText()))")
        }
    }

    func abandon() { _ = Glibc.close(fd) }
}
