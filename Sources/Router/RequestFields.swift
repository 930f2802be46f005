import ModelFormat
/// Typed, range-checked access to a request body's fields; every failure is a 400 naming the field,
/// the value found and what is allowed. `null` counts as absent, as in OpenAI's API.
struct RequestFields {
    let object: [String: JSONValue]

    init(_ object: [String: JSONValue]) {
        self.object = object
    }

    /// The field, nil when absent or null.
    subscript(_ name: String) -> JSONValue? {
        guard let value = object[name], value != .null else { return nil }
        return value
    }

    func string(_ name: String) throws(OpenAIError) -> String? {
        guard let value = self[name] else { return nil }
        guard case .string(let text) = value else { throw Self.wrongType(name, value, "a string") }
        return text
    }

    func bool(_ name: String) throws(OpenAIError) -> Bool? {
        guard let value = self[name] else { return nil }
        guard case .bool(let flag) = value else { throw Self.wrongType(name, value, "true or false") }
        return flag
    }

    func integer(_ name: String, in range: ClosedRange<Int64>) throws(OpenAIError) -> Int64? {
        guard let value = self[name] else { return nil }
        let number: Int64
        switch value {
        case .int(let integer): number = Int64(integer)
        case .double(let double) where double == double.rounded() && abs(double) < 9e18: number = Int64(double)
        default: throw Self.wrongType(name, value, "an integer")
        }
        guard range.contains(number) else {
            throw .invalid(name, "\(name) is \(number); expected an integer in \(Self.describe(range))")
        }
        return number
    }

    /// A number in `range`; `exclusiveLower` makes the lower bound open (top_p > 0).
    func number(_ name: String, in range: ClosedRange<Double>, exclusiveLower: Bool = false) throws(OpenAIError) -> Double? {
        guard let value = self[name] else { return nil }
        let number: Double
        switch value {
        case .int(let integer): number = Double(integer)
        case .double(let double): number = double
        default: throw Self.wrongType(name, value, "a number")
        }
        let lowerOK = exclusiveLower ? number > range.lowerBound : number >= range.lowerBound
        guard number.isFinite, lowerOK, number <= range.upperBound else {
            let lower = exclusiveLower ? "(\(formatNumber(range.lowerBound))" : "[\(formatNumber(range.lowerBound))"
            throw .invalid(name, "\(name) is \(formatNumber(number)); expected a number in \(lower), \(formatNumber(range.upperBound))]")
        }
        return number
    }

    /// A string, or an array of strings (OpenAI's `stop`).
    func strings(_ name: String, maxCount: Int, maxBytes: Int) throws(OpenAIError) -> [String] {
        guard let value = self[name] else { return [] }
        let strings: [String]
        switch value {
        case .string(let text): strings = [text]
        case .array(let elements):
            var collected: [String] = []
            for (index, element) in elements.enumerated() {
                guard case .string(let text) = element else { throw Self.wrongType("\(name)[\(index)]", element, "a string") }
                collected.append(text)
            }
            strings = collected
        default: throw Self.wrongType(name, value, "a string or an array of strings")
        }
        guard strings.count <= maxCount else { throw .invalid(name, "\(name) has \(strings.count) entries; at most \(maxCount) are allowed") }
        for text in strings where text.isEmpty || text.utf8.count > maxBytes {
            throw .invalid(name, "\(name) holds a string of \(text.utf8.count) bytes; each must be 1-\(maxBytes) bytes")
        }
        return strings
    }

    static func wrongType(_ name: String, _ value: JSONValue, _ expected: String) -> OpenAIError {
        .invalid(name, "\(name) is \(value.kind); expected \(expected)")
    }

    private static func describe(_ range: ClosedRange<Int64>) -> String {
        if range.upperBound == .max { return "[\(range.lowerBound), ...]" }
        return "[\(range.lowerBound), \(range.upperBound)]"
    }
}

func formatNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
}
