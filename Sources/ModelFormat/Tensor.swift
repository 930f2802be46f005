/// A named weight: its stored bytes (inside a file mapping, or an owned buffer for un-permuted GGUF Q/K),
/// its type and its shape in Hugging Face order.
///
/// `@unchecked Sendable`: `data` points into immutable memory kept alive by `storage`, which the tensor
/// retains, so a `Tensor` stays valid even after its `ModelCheckpoint` is gone.
public struct Tensor: @unchecked Sendable {
    /// Canonical Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`.
    public let name: String
    public let dtype: DType
    /// HF order, row-major: 2-D weights are `[out_features, in_features]`.
    public let shape: [Int]
    /// The raw stored bytes: bf16 stays bf16, q8_0 stays 34-byte blocks along the last dimension.
    public let data: UnsafeRawBufferPointer
    /// Owner of the memory behind `data` (a `MappedFile` or an `OwnedBuffer`).
    let storage: AnyObject

    init(name: String, dtype: DType, shape: [Int], data: UnsafeRawBufferPointer, storage: AnyObject) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
        self.storage = storage
    }

    /// Number of elements (product of `shape`; 1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes of one row (the last dimension), in the stored type.
    public var rowBytes: Int { dtype.byteCount(elements: shape.last ?? 1) ?? 0 }

    /// A dequantized f32 copy of all elements, row-major. Meant for tests and small tensors.
    public func floats() -> [Float] {
        let count = elementCount
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            Self.dequantize(data, dtype: dtype, count: count, into: out)
            initialized = count
        }
    }

    /// Dequantizes `count` elements of `dtype` from `source` into `out` (unaligned loads: safetensors
    /// offsets need not be aligned).
    static func dequantize(_ source: UnsafeRawBufferPointer, dtype: DType, count: Int, into out: UnsafeMutableBufferPointer<Float>) {
        switch dtype {
        case .f32:
            for i in 0..<count { out[i] = source.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<count { out[i] = floatFromHalfBits(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .bf16:
            for i in 0..<count { out[i] = floatFromBFloat16Bits(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .q8_0:
            for block in 0..<(count / 32) {
                let base = block * 34
                let scale = floatFromHalfBits(source.loadUnaligned(fromByteOffset: base, as: UInt16.self))
                for j in 0..<32 {
                    out[block * 32 + j] = scale * Float(Int8(bitPattern: source[base + 2 + j]))
                }
            }
        }
    }
}
