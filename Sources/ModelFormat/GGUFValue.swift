/// One typed GGUF metadata value (all 13 GGUF value types; arrays may nest).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])

    /// Any integer type as `Int` (nil if it does not fit, or not an integer).
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// Either float type (or an integer) as `Float`.
    public var float: Float? {
        switch self {
        case .float32(let v): v
        case .float64(let v): Float(v)
        default: int.map(Float.init)
        }
    }

    public var bool: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var string: String? { if case .string(let v) = self { v } else { nil } }
    public var array: [GGUFValue]? { if case .array(let v) = self { v } else { nil } }

    /// An array whose elements are all strings (e.g. `tokenizer.ggml.tokens`).
    public var stringArray: [String]? {
        guard let array else { return nil }
        var strings: [String] = []
        strings.reserveCapacity(array.count)
        for element in array {
            guard case .string(let s) = element else { return nil }
            strings.append(s)
        }
        return strings
    }

    /// An array whose elements are all integers (e.g. `tokenizer.ggml.token_type`).
    public var intArray: [Int]? {
        guard let array else { return nil }
        var ints: [Int] = []
        ints.reserveCapacity(array.count)
        for element in array {
            guard let i = element.int else { return nil }
            ints.append(i)
        }
        return ints
    }

    /// An array whose elements are all numbers (e.g. `tokenizer.ggml.scores`).
    public var floatArray: [Float]? {
        guard let array else { return nil }
        var floats: [Float] = []
        floats.reserveCapacity(array.count)
        for element in array {
            guard let f = element.float else { return nil }
            floats.append(f)
        }
        return floats
    }

    /// The GGUF type name, for messages.
    var typeName: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .uint64: "uint64"
        case .int64: "int64"
        case .float32: "float32"
        case .float64: "float64"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        }
    }
}
