import Foundation
public import ModelFormat

extension JSONValue {
    /// Parses a request body that must be a JSON object.
    /// - Throws: ``OpenAIError`` 400 naming what is wrong.
    static func requestObject(from body: [UInt8]) throws(OpenAIError) -> [String: JSONValue] {
        guard !body.isEmpty else { throw .invalid(nil, "the request body is empty; expected a JSON object") }
        let value: JSONValue
        do {
            value = try JSONValue.decode(Data(body))
        } catch {
            throw .invalid(nil, "the request body is not valid JSON (\(error.description)); expected a JSON object")
        }
        guard case .object(let object) = value else {
            throw .invalid(nil, "the request body is \(value.kind); expected a JSON object")
        }
        return object
    }
}
