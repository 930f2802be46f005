/// How a tensor's elements are stored. Weights stay in this type in memory; kernels widen to f32.
public enum DType: String, Sendable, CaseIterable {
    case f32, f16, bf16
    /// GGUF Q8_0: blocks of 32 elements, each an f16 scale `d` then 32 x Int8 `q`; element = d * q (34 bytes).
    case q8_0

    /// Elements per storage block (32 for q8_0, else 1).
    public var blockElements: Int { self == .q8_0 ? 32 : 1 }
    /// Bytes per storage block.
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q8_0: 34
        }
    }

    /// Bytes needed for `elements` elements, or nil when the count is not a whole number of blocks or overflows.
    public func byteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockElements == 0 else { return nil }
        let (bytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }

    /// Bytes of one row of `columns` elements (the innermost dimension), or nil when not whole blocks.
    public func rowBytes(columns: Int) -> Int? { byteCount(elements: columns) }

    /// The dtype name in a safetensors header ("F32", "F16", "BF16"); nil for q8_0, which safetensors cannot hold.
    public var safetensorsName: String? {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .q8_0: nil
        }
    }

    /// The ggml type number (F32=0, F16=1, Q8_0=8, BF16=30).
    public var ggmlType: UInt32 {
        switch self {
        case .f32: 0
        case .f16: 1
        case .q8_0: 8
        case .bf16: 30
        }
    }

    init?(safetensorsName: String) {
        switch safetensorsName {
        case "F32": self = .f32
        case "F16": self = .f16
        case "BF16": self = .bf16
        default: return nil
        }
    }

    init?(ggmlType: UInt32) {
        switch ggmlType {
        case 0: self = .f32
        case 1: self = .f16
        case 8: self = .q8_0
        case 30: self = .bf16
        default: return nil
        }
    }
}
