import Foundation

/// A parsed JSON document, used for config.json and safetensors headers (and by the router for
/// request bodies). Integers are kept exact (safetensors offsets), booleans apart from numbers,
/// everything else as in JSON.
public enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses `data`; malformed JSON becomes `badHeader` naming `file` and `what` (e.g. "config.json").
    static func parse(_ data: Data, file: String, what: String) throws -> JSONValue {
        do {
            return try decode(data)
        } catch {
            throw ModelFormatError(.badHeader, file: file, "\(what) is not valid JSON (\(error.description))")
        }
    }

    /// Parses `data`.
    /// - Throws: ``JSONSyntaxError`` saying what is wrong, in one line.
    public static func decode(_ data: Data) throws(JSONSyntaxError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw JSONSyntaxError(description: summary(of: error))
        }
    }

    private static func summary(of error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return String(describing: error).split(separator: "\n").first.map(String.init) ?? "parse error"
    }

    /// "a string", "an array", … for error messages.
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var isNull: Bool { self == .null }

    /// Integral numbers only (1.0 counts, 1.5 does not).
    var intValue: Int? {
        switch self {
        case .int(let i): i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e15: Int(d)
        default: nil
        }
    }

    var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
}

/// Text that is not JSON: what the parser found, one line.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// `s` as a JSON string literal (quotes, backslashes and control characters escaped).
func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
