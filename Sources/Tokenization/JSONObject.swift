import Foundation

/// A parsed JSON object that remembers where it came from, so every lookup failure becomes a
/// `TokenizationError` naming the file and the full key path.
struct JSONObject {
    let values: [String: Any]
    let file: String
    let path: String

    init(values: [String: Any], file: String, path: String) {
        self.values = values
        self.file = file
        self.path = path
    }

    /// Parses `data` whose top level must be an object.
    init(data: Data, file: String) throws {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw TokenizationError(file: file, key: "", found: "malformed JSON (\(Self.reason(error)))",
                                    expected: "a JSON object")
        }
        guard let object = parsed as? [String: Any] else {
            throw TokenizationError(file: file, key: "", found: Self.describe(parsed), expected: "a JSON object")
        }
        self.init(values: object, file: file, path: "")
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, found: String, expected: String) -> TokenizationError {
        TokenizationError(file: file, key: keyPath(key), found: found, expected: expected)
    }

    /// True when the key is absent or JSON null.
    func isNull(_ key: String) -> Bool { values[key] == nil || values[key] is NSNull }

    func object(_ key: String) throws -> JSONObject {
        guard let value = values[key] as? [String: Any] else {
            throw error(key, found: Self.describe(values[key]), expected: "an object")
        }
        return JSONObject(values: value, file: file, path: keyPath(key))
    }

    func optionalObject(_ key: String) throws -> JSONObject? {
        isNull(key) ? nil : try object(key)
    }

    func string(_ key: String) throws -> String {
        guard let value = values[key] as? String else {
            throw error(key, found: Self.describe(values[key]), expected: "a string")
        }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        isNull(key) ? nil : try string(key)
    }

    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        if isNull(key) { return defaultValue }
        guard let number = values[key] as? NSNumber, Self.isBool(number) else {
            throw error(key, found: Self.describe(values[key]), expected: "true or false")
        }
        return number.boolValue
    }

    func int(_ key: String) throws -> Int {
        guard let number = values[key] as? NSNumber, !Self.isBool(number),
              let value = Int(exactly: number.doubleValue) else {
            throw error(key, found: Self.describe(values[key]), expected: "an integer")
        }
        return value
    }

    func array(_ key: String) throws -> [Any] {
        guard let value = values[key] as? [Any] else {
            throw error(key, found: Self.describe(values[key]), expected: "an array")
        }
        return value
    }

    /// The elements of an array of objects, each with its index in the key path.
    func objects(_ key: String) throws -> [JSONObject] {
        try array(key).enumerated().map { index, element in
            guard let object = element as? [String: Any] else {
                throw error("\(key)[\(index)]", found: Self.describe(element), expected: "an object")
            }
            return JSONObject(values: object, file: file, path: keyPath("\(key)[\(index)]"))
        }
    }

    static func isBool(_ number: NSNumber) -> Bool {
        #if canImport(Darwin)
        return CFGetTypeID(number) == CFBooleanGetTypeID()
        #else
        return String(cString: number.objCType) == "c" && (number == true || number == false)
        #endif
    }

    /// A short rendering of a JSON value for error messages.
    static func describe(_ value: Any?) -> String {
        switch value {
        case nil: return "nothing"
        case is NSNull: return "null"
        case let string as String: return "string \"\(string.prefix(60))\""
        case let number as NSNumber: return isBool(number) ? "\(number.boolValue)" : "number \(number)"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value!))"
        }
    }

    private static func reason(_ error: any Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        return String(text.prefix(120))
    }
}
