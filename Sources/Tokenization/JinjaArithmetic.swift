import Foundation

/// Python semantics for arithmetic, equality and ordering of template values (bools count as ints, ints and
/// floats mix, `//` and `%` floor, overflow is an error rather than a trap).
enum JinjaArithmetic {
    enum Number {
        case int(Int), double(Double)
        var asDouble: Double {
            switch self {
            case .int(let i): return Double(i)
            case .double(let d): return d
            }
        }
    }

    static func number(_ v: JinjaValue) -> Number? {
        switch v {
        case .int(let i): return .int(i)
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d): return .double(d)
        default: return nil
        }
    }

    static func equals(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
        if let x = number(a), let y = number(b) {
            if case .int(let i) = x, case .int(let j) = y { return i == j }
            return x.asDouble == y.asDouble
        }
        switch (a, b) {
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equals($0, $1) }
        case (.object(let x), .object(let y)):
            // Generators compare by identity in Python; two evaluations are never the same object.
            if x.generatorItems != nil || y.generatorItems != nil { return false }
            return x.count == y.count
                && x.entries.allSatisfy { entry in y[entry.key].map { equals(entry.value, $0) } ?? false }
        default:
            return a == b
        }
    }

    /// -1, 0 or 1; throws for types Python cannot order.
    static func order(_ a: JinjaValue, _ b: JinjaValue, op: String, at position: JinjaPosition)
        throws(ChatTemplateError) -> Int
    {
        if let x = number(a), let y = number(b) {
            if case .int(let i) = x, case .int(let j) = y { return i < j ? -1 : (i == j ? 0 : 1) }
            let (p, q) = (x.asDouble, y.asDouble)
            return p < q ? -1 : (p == q ? 0 : 1)
        }
        switch (a, b) {
        case (.string(let x), .string(let y)):
            // Python orders strings by code point, not by Unicode canonical order.
            for (p, q) in zip(x.unicodeScalars, y.unicodeScalars) where p != q { return p.value < q.value ? -1 : 1 }
            let (m, n) = (x.unicodeScalars.count, y.unicodeScalars.count)
            return m < n ? -1 : (m == n ? 0 : 1)
        case (.array(let x), .array(let y)):
            for (p, q) in zip(x, y) where !equals(p, q) { return try order(p, q, op: op, at: position) }
            return x.count < y.count ? -1 : (x.count == y.count ? 0 : 1)
        default:
            throw ChatTemplateError(
                "'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'",
                at: position
            )
        }
    }

    static func apply(_ op: String, _ a: JinjaValue, _ b: JinjaValue, at position: JinjaPosition)
        throws(ChatTemplateError) -> JinjaValue
    {
        if let x = number(a), let y = number(b) { return try numeric(op, x, y, at: position) }
        // bool is an int subclass in Python: 'ab' * True == 'ab'.
        let (a, b) = (boolAsInt(a), boolAsInt(b))
        switch (op, a, b) {
        case ("+", .string(let x), .string(let y)):
            return try sized(.string(x + y), at: position)
        case ("+", .array(let x), .array(let y)):
            return try sized(.array(x + y), at: position)
        case ("*", .string, .int), ("*", .int, .string), ("*", .array, .int), ("*", .int, .array):
            return try repeated(a, b, at: position)
        default:
            throw ChatTemplateError(
                "unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'",
                at: position
            )
        }
    }

    private static func boolAsInt(_ v: JinjaValue) -> JinjaValue {
        if case .bool(let flag) = v { return .int(flag ? 1 : 0) }
        return v
    }

    private static func sized(_ v: JinjaValue, at position: JinjaPosition) throws(ChatTemplateError) -> JinjaValue {
        let size: Int
        switch v {
        case .string(let s): size = s.utf8.count
        case .array(let a): size = a.count
        default: size = 0
        }
        guard size <= JinjaRenderer.maxSize else { throw ChatTemplateError("value too large", at: position) }
        return v
    }

    private static func repeated(_ a: JinjaValue, _ b: JinjaValue, at position: JinjaPosition) throws(ChatTemplateError)
        -> JinjaValue
    {
        let (seq, count): (JinjaValue, Int) =
            if case .int(let n) = a { (b, n) } else if case .int(let n) = b { (a, n) } else { (a, 0) }
        let n = max(0, count)
        switch seq {
        case .string(let s):
            guard s.isEmpty || n <= JinjaRenderer.maxSize / s.utf8.count else {
                throw ChatTemplateError("string repetition too large", at: position)
            }
            return .string(String(repeating: s, count: n))
        case .array(let items):
            guard items.isEmpty || n <= JinjaRenderer.maxSize / items.count else {
                throw ChatTemplateError("list repetition too large", at: position)
            }
            return .array(Array([[JinjaValue]](repeating: items, count: n).joined()))
        default:
            return .undefined
        }
    }

    private static func numeric(_ op: String, _ x: Number, _ y: Number, at position: JinjaPosition)
        throws(ChatTemplateError) -> JinjaValue
    {
        if case .int(let i) = x, case .int(let j) = y, op != "/" {
            return try integer(op, i, j, at: position)
        }
        let (p, q) = (x.asDouble, y.asDouble)
        switch op {
        case "+": return .double(p + q)
        case "-": return .double(p - q)
        case "*": return .double(p * q)
        case "**": return .double(pow(p, q))
        default:
            guard q != 0 else { throw ChatTemplateError("division by zero in '\(op)'", at: position) }
            switch op {
            case "/": return .double(p / q)
            case "//": return .double((p / q).rounded(.down))
            default:
                let r = p.truncatingRemainder(dividingBy: q)
                return .double(r != 0 && (r < 0) != (q < 0) ? r + q : r)
            }
        }
    }

    private static func integer(_ op: String, _ i: Int, _ j: Int, at position: JinjaPosition) throws(ChatTemplateError)
        -> JinjaValue
    {
        let result: (Int, Bool)
        switch op {
        case "+": result = i.addingReportingOverflow(j)
        case "-": result = i.subtractingReportingOverflow(j)
        case "*": result = i.multipliedReportingOverflow(by: j)
        case "**":
            if j < 0 { return .double(pow(Double(i), Double(j))) }
            var acc = 1, overflow = false
            for _ in 0..<min(j, 64) where !overflow {
                (acc, overflow) = acc.multipliedReportingOverflow(by: i)
            }
            if j > 64 && abs(i) > 1 { overflow = true }
            if j > 64 && i == -1 { acc = j % 2 == 0 ? 1 : -1 }
            result = (acc, overflow)
        default:
            guard j != 0 else { throw ChatTemplateError("integer division or modulo by zero", at: position) }
            guard !(i == Int.min && j == -1) else {
                throw ChatTemplateError("integer overflow in '\(op)'", at: position)
            }
            var q = i / j, r = i % j
            if r != 0 && (r < 0) != (j < 0) { q -= 1; r += j }
            return .int(op == "//" ? q : r)
        }
        guard !result.1 else {
            throw ChatTemplateError("integer overflow in '\(op)' (values beyond 64 bits are unsupported)", at: position)
        }
        return .int(result.0)
    }
}
