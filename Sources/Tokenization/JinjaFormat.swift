import Foundation

/// Python's printf-style `str % args` (also the `format` filter): `%s %r %d %i %f %e %g %x %o %c %%` with flags,
/// width and precision, positional arguments or a mapping for `%(name)s`. `*` widths are not supported.
enum JinjaFormat {
    static func format(_ template: String, positional: [JinjaValue], mapping: JinjaObject?, at position: JinjaPosition)
        throws(ChatTemplateError) -> String
    {
        let scalars = Array(template.unicodeScalars)
        var out = ""
        var i = 0
        var next = 0
        func fail(_ message: String) -> ChatTemplateError {
            ChatTemplateError("string formatting with '%': \(message)", at: position)
        }
        while i < scalars.count {
            guard scalars[i] == "%" else {
                out.unicodeScalars.append(scalars[i])
                i += 1
                continue
            }
            i += 1
            var key: String?
            if i < scalars.count, scalars[i] == "(" {
                guard let close = scalars[i...].firstIndex(of: ")") else { throw fail("incomplete format key") }
                key = JinjaStrings.make(scalars[(i + 1)..<close])
                i = close + 1
            }
            var flags = ""
            while i < scalars.count, "-+ 0#".unicodeScalars.contains(scalars[i]) {
                flags.unicodeScalars.append(scalars[i])
                i += 1
            }
            var width = "", precision: String?
            while i < scalars.count, ("0"..."9").contains(scalars[i]) {
                width.unicodeScalars.append(scalars[i])
                i += 1
            }
            if i < scalars.count, scalars[i] == "." {
                i += 1
                var p = ""
                while i < scalars.count, ("0"..."9").contains(scalars[i]) {
                    p.unicodeScalars.append(scalars[i])
                    i += 1
                }
                precision = p
            }
            guard i < scalars.count else { throw fail("incomplete format") }
            let conversion = scalars[i]
            i += 1
            if conversion == "%" {
                out += "%"
                continue
            }
            let value: JinjaValue
            if let key {
                guard let mapping else { throw fail("format requires a mapping") }
                guard let v = mapping[key] else { throw fail("missing key '\(key)'") }
                value = v
            } else {
                guard next < positional.count else { throw fail("not enough arguments for format string") }
                value = positional[next]
                next += 1
            }
            let spec = Spec(flags: flags, width: width, precision: precision)
            out += try convert(value, conversion, spec, fail: fail)
        }
        if mapping == nil && next < positional.count {
            throw fail("not all arguments converted during string formatting")
        }
        return out
    }

    struct Spec {
        var flags: String
        var width: String
        var precision: String?
        var cFormat: String { "%" + flags + width + (precision.map { "." + $0 } ?? "") }
    }

    private static func convert(
        _ value: JinjaValue,
        _ conversion: Unicode.Scalar,
        _ spec: Spec,
        fail: (String) -> ChatTemplateError
    ) throws(ChatTemplateError) -> String {
        switch conversion {
        case "s", "r", "a":
            var text = conversion == "s" ? value.pythonString : value.pythonRepr
            if let p = spec.precision.flatMap({ Int($0) }) { text = JinjaStrings.make(text.unicodeScalars.prefix(p)) }
            return pad(text, spec)
        case "d", "i", "u", "x", "X", "o", "c":
            guard let number = JinjaArithmetic.number(value) else {
                throw fail("%\(conversion) format: a number is required, not \(value.typeName)")
            }
            let n: Int
            switch number {
            case .int(let i): n = i
            case .double(let d):
                guard d.isFinite, abs(d) < 9.2e18, conversion != "x", conversion != "X", conversion != "o" else {
                    throw fail("%\(conversion) format: an integer is required, not float")
                }
                n = Int(d)
            }
            if conversion == "c" {
                guard let scalar = Unicode.Scalar(UInt32(clamping: max(0, n))) else {
                    throw fail("%c arg not in range")
                }
                return pad(String(scalar), spec)
            }
            let c = conversion == "i" || conversion == "u" ? "d" : String(conversion)
            return String(format: spec.cFormat + "ll" + c, n)
        case "f", "F", "e", "E", "g", "G":
            guard let number = JinjaArithmetic.number(value) else {
                throw fail("%\(conversion) format: a real number is required, not \(value.typeName)")
            }
            return String(format: spec.cFormat + String(conversion), number.asDouble)
        default:
            throw fail("unsupported format character '\(conversion)'")
        }
    }

    private static func pad(_ text: String, _ spec: Spec) -> String {
        let width = Int(spec.width) ?? 0
        let missing = width - text.unicodeScalars.count
        guard missing > 0 else { return text }
        let fill = String(repeating: " ", count: missing)
        return spec.flags.contains("-") ? text + fill : fill + text
    }
}
