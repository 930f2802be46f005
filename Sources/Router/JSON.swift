import Foundation

/// A parsed request body. JSONDecoder keeps booleans apart from numbers (so `"stream": 1` is an
/// error, as it is for OpenAI) and integers exact up to 64 bits.
enum JSON: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    /// Parses a request body that must be a JSON object.
    /// - Throws: ``OpenAIError`` 400 naming what is wrong.
    static func object(from body: [UInt8]) throws(OpenAIError) -> [String: JSON] {
        guard !body.isEmpty else { throw .invalid(nil, "the request body is empty; expected a JSON object") }
        let value: JSON
        do {
            value = try JSONDecoder().decode(JSON.self, from: Data(body))
        } catch {
            throw .invalid(nil, "the request body is not valid JSON (\(Self.summary(of: error))); expected a JSON object")
        }
        guard case .object(let object) = value else {
            throw .invalid(nil, "the request body is \(value.kind); expected a JSON object")
        }
        return object
    }

    private static func summary(of error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return String(describing: error).split(separator: "\n").first.map(String.init) ?? "parse error"
    }

    /// "a string", "an array", ... for error messages.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
