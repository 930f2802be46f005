import CKernels

/// How the elements of a weight matrix are stored.
public enum WeightType: Sendable, CaseIterable, CustomStringConvertible {
    case f32, f16, bf16
    /// GGUF Q8_0: blocks of 32 consecutive elements of a row, each an f16 scale `d` then 32 x Int8 `q`;
    /// element = d * q. Rows must have a multiple of 32 columns.
    case q8_0

    var code: Int32 {
        switch self {
        case .f32: Int32(CK_W_F32)
        case .f16: Int32(CK_W_F16)
        case .bf16: Int32(CK_W_BF16)
        case .q8_0: Int32(CK_W_Q8_0)
        }
    }

    public var description: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .bf16: "bf16"
        case .q8_0: "q8_0"
        }
    }

    /// Bytes one stored row of `columns` elements occupies.
    public func rowBytes(columns: Int) -> Int {
        switch self {
        case .f32: columns * 4
        case .f16, .bf16: columns * 2
        case .q8_0: columns / 32 * 34
        }
    }
}

/// A read-only view of a row-major weight matrix `[rows (outputs), columns (inputs)]`, the layout
/// Hugging Face stores `nn.Linear` weights in, kept in its stored element type.
///
/// `@unchecked Sendable`: it points into a mapping (or buffer) that outlives it and nobody writes to.
public struct WeightMatrix: @unchecked Sendable {
    public let type: WeightType
    public let rows: Int
    public let columns: Int
    public let data: UnsafeRawPointer

    /// Wraps `data`, which must hold `rows * type.rowBytes(columns:)` bytes. For q8_0, `columns` must be
    /// a multiple of 32: loaders check that with `validated(...)` first.
    public init(type: WeightType, rows: Int, columns: Int, data: UnsafeRawPointer) {
        precondition(rows >= 0 && columns >= 0 && (type != .q8_0 || columns % 32 == 0),
                     "WeightMatrix \(rows)x\(columns) \(type): invalid shape (loaders must validate first)")
        self.type = type
        self.rows = rows
        self.columns = columns
        self.data = data
    }

    /// Like `init`, but reports a shape the kernels cannot handle as an error naming `name`.
    public static func validated(name: String, type: WeightType, rows: Int, columns: Int, byteCount: Int,
                                 data: UnsafeRawPointer) throws -> WeightMatrix {
        guard rows > 0, columns > 0 else {
            throw KernelsError.invalidShape(name: name, found: "shape [\(rows), \(columns)]",
                                            expected: "positive rows and columns")
        }
        guard type != .q8_0 || columns % 32 == 0 else {
            throw KernelsError.invalidShape(name: name, found: "\(columns) columns of q8_0",
                                            expected: "a multiple of 32 (q8_0 block size)")
        }
        let needed = rows * type.rowBytes(columns: columns)
        guard byteCount == needed else {
            throw KernelsError.invalidShape(name: name, found: "\(byteCount) bytes",
                                            expected: "\(needed) bytes for [\(rows), \(columns)] \(type)")
        }
        return WeightMatrix(type: type, rows: rows, columns: columns, data: data)
    }

    /// Bytes of the whole matrix.
    public var byteCount: Int { rows * type.rowBytes(columns: columns) }

    /// Writes row `i` widened to f32 into `out[0..<columns]` (embedding lookup).
    public func row(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(i >= 0 && i < rows, "row \(i) out of 0..<\(rows)")
        ck_widen_rows(KernelISA.detected.code, type.code, data, columns, i, i + 1, out, columns)
    }

    /// Writes rows `range` widened to f32 into `out` with row stride `stride` (>= columns).
    public func widenRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>, stride: Int,
                          isa: KernelISA = .detected) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows && stride >= columns)
        ck_widen_rows(isa.supported.code, type.code, data, columns, range.lowerBound, range.upperBound, out, stride)
    }
}
