/// `tojson` as transformers overrides it: Python's `json.dumps(x, ensure_ascii=False, indent=..., separators=...,
/// sort_keys=...)`, i.e. no HTML escaping, `", "`/`": "` separators (`","` when indented), insertion order.
struct JinjaJSON {
    var indent: String?
    var itemSeparator: String
    var keySeparator: String
    var sortKeys: Bool
    var ensureASCII: Bool

    init(indent: String?, separators: (String, String)?, sortKeys: Bool, ensureASCII: Bool) {
        self.indent = indent
        self.itemSeparator = separators?.0 ?? (indent == nil ? ", " : ",")
        self.keySeparator = separators?.1 ?? ": "
        self.sortKeys = sortKeys
        self.ensureASCII = ensureASCII
    }

    func encode(_ value: JinjaValue, at position: JinjaPosition) throws(ChatTemplateError) -> String {
        var out = ""
        try write(value, level: 0, into: &out, at: position)
        return out
    }

    private func newline(_ level: Int, into out: inout String) {
        guard let indent else { return }
        out += "\n" + String(repeating: indent, count: level)
    }

    private func write(_ value: JinjaValue, level: Int, into out: inout String, at position: JinjaPosition)
        throws(ChatTemplateError)
    {
        guard level < 256 else { throw ChatTemplateError("tojson: value nested too deeply", at: position) }
        switch value {
        case .undefined:
            throw ChatTemplateError("tojson: object of type Undefined is not JSON serializable", at: position)
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            out += d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : JinjaValue.pythonFloat(d)
        case .string(let s): out += quote(s)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += itemSeparator }
                newline(level + 1, into: &out)
                try write(item, level: level + 1, into: &out, at: position)
            }
            newline(level, into: &out)
            out += "]"
        case .object(let object) where object.generatorItems != nil:
            throw ChatTemplateError("tojson: object of type generator is not JSON serializable", at: position)
        case .object(let object):
            guard !object.isEmpty else { out += "{}"; return }
            let keys =
                sortKeys
                ? object.keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) } : object.keys
            out += "{"
            for (index, key) in keys.enumerated() {
                if index > 0 { out += itemSeparator }
                newline(level + 1, into: &out)
                out += quote(key) + keySeparator
                try write(object[key] ?? .none, level: level + 1, into: &out, at: position)
            }
            newline(level, into: &out)
            out += "}"
        }
    }

    func quote(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        out.append("\"")
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\u{08}": out.append(contentsOf: "\\b".unicodeScalars)
            case "\u{0C}": out.append(contentsOf: "\\f".unicodeScalars)
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7F) {
                    appendEscaped(scalar, into: &out)
                } else {
                    out.append(scalar)
                }
            }
        }
        out.append("\"")
        return String(out)
    }

    private func appendEscaped(_ scalar: Unicode.Scalar, into out: inout String.UnicodeScalarView) {
        // Python escapes astral characters as UTF-16 surrogate pairs.
        for unit in String(scalar).utf16 {
            out.append(contentsOf: ("\\u" + JinjaValue.hex(UInt32(unit), width: 4)).unicodeScalars)
        }
    }
}
