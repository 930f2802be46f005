/// A value seen by a chat template, modelled on the Python objects jinja2 works with.
///
/// Objects keep their insertion order (like Python dicts) because `tojson`, `items()` and printing
/// expose it, and tool definitions are rendered in the order the client sent them.
public indirect enum JinjaValue: Sendable, Equatable {
    /// jinja2's default `Undefined`: prints as "", is falsy, iterates as empty; most operations on it fail.
    case undefined
    /// Python's `None` (JSON `null`).
    case none
    case bool(Bool)
    /// A 64-bit integer; arithmetic that would overflow throws instead of wrapping.
    case int(Int)
    case double(Double)
    case string(String)
    /// A Python list (also used for tuples, which therefore print with brackets).
    case array([JinjaValue])
    /// A Python dict with string keys, in insertion order.
    case object(JinjaObject)

    /// Python truthiness.
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return o.generatorItems != nil || !o.isEmpty
        }
    }

    /// Python's `str(value)` (with jinja2's "" for undefined): what `{{ value }}` prints.
    public var pythonString: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return pythonRepr
        }
    }

    /// Python's `repr(value)`, used inside printed lists and dicts.
    public var pythonRepr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return JinjaValue.pythonFloat(d)
        case .string(let s): return JinjaValue.pythonQuote(s)
        case .array(let a): return "[" + a.map(\.pythonRepr).joined(separator: ", ") + "]"
        case .object(let o) where o.generatorItems != nil:
            return "<generator object>"
        case .object(let o):
            let body = o.entries.map { JinjaValue.pythonQuote($0.key) + ": " + $0.value.pythonRepr }
            return "{" + body.joined(separator: ", ") + "}"
        }
    }

    /// The name Python would give the value's type, for error messages.
    var typeName: String {
        switch self {
        case .undefined: return "undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .object(let o): return o.generatorItems != nil ? "generator" : o.isNamespace ? "Namespace" : "dict"
        }
    }

    static func pythonFloat(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        // Swift's shortest round-trip description matches Python's repr (both switch to exponent form at 1e16 / 1e-5).
        return d.description
    }

    static func pythonQuote(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append(quote)
        return out
    }

    static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// An insertion-ordered string-keyed dictionary (Python dict semantics for templates).
public struct JinjaObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    /// Keys in insertion order.
    public private(set) var keys: [String] = []
    private var storage: [String: JinjaValue] = [:]
    /// Set for objects made by `namespace()`, the only objects `{% set ns.attr = ... %}` may modify.
    var isNamespace = false
    /// Set when this stands for a Python generator, which jinja2's select/reject/map/unique/items/reverse filters
    /// return: always truthy, iterable, but without len(), subscripts or JSON form.
    var generatorItems: [JinjaValue]?
    /// A generator whose filter failed: like Python's lazy generators, the error surfaces only when it is consumed.
    var generatorFailure: ChatTemplateError?

    /// A generator yielding `items` (see `generatorItems`).
    static func generator(_ items: [JinjaValue]) -> JinjaValue {
        var object = JinjaObject()
        object.generatorItems = items
        return .object(object)
    }

    /// A generator that throws `failure` when iterated (jinja2 filters fail lazily).
    static func failedGenerator(_ failure: ChatTemplateError) -> JinjaValue {
        var object = JinjaObject()
        object.generatorItems = []
        object.generatorFailure = failure
        return .object(object)
    }

    /// An empty object.
    public init() {}

    /// An object with `entries` in order; a repeated key keeps its first position and its last value.
    public init(_ entries: [(String, JinjaValue)]) {
        for (key, value) in entries { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JinjaValue)...) {
        self.init(elements)
    }

    /// True when there are no keys.
    public var isEmpty: Bool { keys.isEmpty }
    /// The number of keys.
    public var count: Int { keys.count }
    /// Key/value pairs in insertion order.
    public var entries: [(key: String, value: JinjaValue)] { keys.map { ($0, storage[$0] ?? .undefined) } }

    /// The value for `key`; assigning nil removes it, assigning a new key appends it.
    public subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Python dict equality ignores order.
    public static func == (lhs: JinjaObject, rhs: JinjaObject) -> Bool {
        lhs.storage == rhs.storage
    }
}

extension JinjaValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JinjaValue)...) { self = .object(JinjaObject(elements)) }
}
