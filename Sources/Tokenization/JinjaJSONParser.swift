import Foundation

extension JinjaValue {
    /// Parses JSON into template values keeping object key order (as Python's `json.loads` does), so tool schemas
    /// from a request render through `tojson` exactly as transformers would render them.
    /// Integers beyond 64 bits become doubles.
    /// - Parameter jsonData: UTF-8 JSON text.
    /// - Throws: `ChatTemplateError` naming the byte offset of the first syntax error.
    public init(jsonData: Data) throws {
        var parser = JinjaJSONParser(bytes: [UInt8](jsonData))
        self = try parser.parseDocument()
    }

    /// Parses a JSON string; see `init(jsonData:)`.
    /// - Parameter json: JSON text.
    /// - Throws: `ChatTemplateError` naming the byte offset of the first syntax error.
    public init(json: String) throws {
        try self.init(jsonData: Data(json.utf8))
    }
}

struct JinjaJSONParser {
    let bytes: [UInt8]
    var i = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ what: String) -> ChatTemplateError {
        ChatTemplateError("invalid JSON at byte \(i): \(what)")
    }

    mutating func skipSpace() {
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    }

    mutating func parseDocument() throws(ChatTemplateError) -> JinjaValue {
        let value = try parseValue()
        skipSpace()
        guard i == bytes.count else { throw fail("unexpected trailing data") }
        return value
    }

    mutating func literal(_ word: String, _ value: JinjaValue) throws(ChatTemplateError) -> JinjaValue {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { throw fail("expected '\(word)'") }
        i += w.count
        return value
    }

    mutating func parseValue() throws(ChatTemplateError) -> JinjaValue {
        skipSpace()
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .none)
        default: return try parseNumber()
        }
    }

    mutating func nested() throws(ChatTemplateError) {
        depth += 1
        if depth > 200 { throw fail("nested deeper than 200 levels") }
        i += 1
    }

    mutating func parseObject() throws(ChatTemplateError) -> JinjaValue {
        try nested()
        defer { depth -= 1 }
        var object = JinjaObject()
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            object[key] = try parseValue()
            skipSpace()
            guard i < bytes.count else { throw fail("unterminated object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            i += 1
            return .object(object)
        }
    }

    mutating func parseArray() throws(ChatTemplateError) -> JinjaValue {
        try nested()
        defer { depth -= 1 }
        var items: [JinjaValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            items.append(try parseValue())
            skipSpace()
            guard i < bytes.count else { throw fail("unterminated array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            i += 1
            return .array(items)
        }
    }

    mutating func parseNumber() throws(ChatTemplateError) -> JinjaValue {
        let start = i
        var isFloat = false
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                isFloat = true
            } else if !(b >= 0x30 && b <= 0x39) && b != UInt8(ascii: "-") && b != UInt8(ascii: "+") {
                break
            }
            i += 1
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        guard !text.isEmpty else { throw fail("unexpected character") }
        if !isFloat, let n = Int(text) { return .int(n) }
        guard let d = Double(text) else { throw fail("bad number '\(text)'") }
        return .double(d)
    }

    mutating func parseHex4() throws(ChatTemplateError) -> UInt32 {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16)
        else {
            throw fail("bad \\u escape")
        }
        i += 4
        return v
    }

    mutating func parseString() throws(ChatTemplateError) -> String {
        i += 1
        var out: [UInt8] = []
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            guard b == UInt8(ascii: "\\") else { out.append(b); continue }
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(e)
            case UInt8(ascii: "u"):
                var v = try parseHex4()
                if (0xD800..<0xDC00).contains(v), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
                    bytes[i + 1] == UInt8(ascii: "u")
                {
                    i += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(v) else { throw fail("unpaired surrogate") }
                out.append(contentsOf: Array(String(scalar).utf8))
            default: throw fail("bad escape '\\\(Character(Unicode.Scalar(e)))'")
            }
        }
        throw fail("unterminated string")
    }
}
