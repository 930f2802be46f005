import Foundation

/// Arguments of one filter/test/function call, addressed by position or keyword like Python parameters.
struct JinjaCallArguments {
    var positional: [JinjaValue]
    var keyword: [(String, JinjaValue)]
    var callee: String
    var position: JinjaPosition

    func get(_ index: Int, _ name: String) -> JinjaValue? {
        if let kw = keyword.first(where: { $0.0 == name }) { return kw.1 }
        return index < positional.count ? positional[index] : nil
    }

    func string(_ index: Int, _ name: String, default defaultValue: String? = nil) throws(ChatTemplateError) -> String?
    {
        switch get(index, name) {
        case nil, .none?, .undefined?: return defaultValue
        case .string(let s)?: return s
        case let other?:
            throw ChatTemplateError(
                "\(callee): argument '\(name)' must be a string, got '\(other.typeName)'",
                at: position
            )
        }
    }

    func int(_ index: Int, _ name: String, default defaultValue: Int) throws(ChatTemplateError) -> Int {
        switch get(index, name) {
        case nil, .none?, .undefined?: return defaultValue
        case .int(let i)?: return i
        case .bool(let b)?: return b ? 1 : 0
        case let other?:
            throw ChatTemplateError(
                "\(callee): argument '\(name)' must be an integer, got '\(other.typeName)'",
                at: position
            )
        }
    }

    func bool(_ index: Int, _ name: String) -> Bool { get(index, name)?.isTruthy ?? false }
}

extension JinjaRenderer {
    /// Filters `applyFilter` implements; the parser rejects others so a typo fails at load time, as in jinja2.
    static let knownFilters: Set<String> = [
        "trim", "length", "count", "upper", "lower", "title", "capitalize", "default", "d", "tojson", "string", "int",
        "float", "join", "first", "last", "list", "reverse", "replace", "items", "selectattr", "rejectattr", "select",
        "reject", "map", "safe", "e", "escape", "abs", "unique", "sort", "min", "max", "sum", "indent", "wordcount",
        "round",
        "dictsort", "attr", "center", "format",
    ]

    mutating func applyFilter(
        _ name: String,
        _ value: JinjaValue,
        _ positional: [JinjaValue],
        _ keyword: [(String, JinjaValue)],
        at position: JinjaPosition
    ) throws(ChatTemplateError) -> JinjaValue {
        let args = JinjaCallArguments(
            positional: positional,
            keyword: keyword,
            callee: "filter '\(name)'",
            position: position
        )
        switch name {
        case "trim":
            return .string(
                JinjaStrings.strip(value.pythonString, try args.string(0, "chars"), leading: true, trailing: true)
            )
        case "length", "count":
            return .int(try length(value, at: position))
        case "upper": return .string(value.pythonString.uppercased())
        case "lower": return .string(value.pythonString.lowercased())
        case "title": return .string(JinjaStrings.titleFilter(value.pythonString))
        case "capitalize": return .string(JinjaStrings.capitalize(value.pythonString))
        case "default", "d":
            let useDefault = args.bool(1, "boolean") ? !value.isTruthy : value == .undefined
            return useDefault ? (args.get(0, "default_value") ?? .string("")) : value
        case "tojson":
            return .string(try toJSON(value, args))
        case "string": return .string(value.pythonString)
        case "int", "float":
            // Python's int()/float() on jinja2's Undefined raise instead of returning the default.
            if case .undefined = value {
                throw ChatTemplateError("filter '\(name)' on an undefined value", at: position)
            }
            return name == "int" ? try toInt(value, args) : try toFloat(value, args)
        case "join":
            var items = try iterate(value, what: "join input", at: position)
            if let attribute = try args.string(1, "attribute") { items = items.map { attributeValue($0, attribute) } }
            return .string(items.map(\.pythonString).joined(separator: try args.string(0, "d", default: "") ?? ""))
        case "first":
            return try iterate(value, what: "first input", at: position).first ?? .undefined
        case "last":
            if case .object(let o) = value, o.generatorItems != nil {
                throw ChatTemplateError("filter 'last': 'generator' object is not reversible", at: position)
            }
            return try iterate(value, what: "last input", at: position).last ?? .undefined
        case "list": return .array(try iterate(value, what: "list input", at: position))
        case "reverse":
            if case .string(let s) = value { return .string(JinjaStrings.make(s.unicodeScalars.reversed())) }
            let items = try iterate(value, what: "reverse input", at: position)
            // reversed() on lists and dicts is a lazy iterator; a generator input is copied into a list instead.
            if case .object(let o) = value, o.generatorItems != nil { return .array(items.reversed()) }
            return JinjaObject.generator(items.reversed())
        case "replace":
            guard let old = try args.string(0, "old"), let new = try args.string(1, "new") else {
                throw ChatTemplateError("filter 'replace' needs old and new strings", at: position)
            }
            return .string(
                JinjaStrings.replace(value.pythonString, old, new, count: try args.int(2, "count", default: -1))
            )
        case "items":
            if case .undefined = value { return JinjaObject.generator([]) }
            guard case .object(let o) = value, o.generatorItems == nil else {
                let failure = ChatTemplateError("filter 'items' needs a mapping, got '\(value.typeName)'", at: position)
                return JinjaObject.failedGenerator(failure)
            }
            return JinjaObject.generator(o.entries.map { .array([.string($0.key), $0.value]) })
        case "selectattr", "rejectattr", "select", "reject":
            do throws(ChatTemplateError) {
                return JinjaObject.generator(try select(name, value, args))
            } catch {
                return JinjaObject.failedGenerator(error)
            }
        case "map":
            do throws(ChatTemplateError) {
                return JinjaObject.generator(try mapFilter(value, args))
            } catch {
                return JinjaObject.failedGenerator(error)
            }
        case "safe": return .string(value.pythonString)  // Markup(str(value)): a non-empty string even for False
        case "e", "escape": return .string(JinjaStrings.htmlEscape(value.pythonString))
        case "abs":
            guard let n = JinjaArithmetic.number(value) else {
                throw ChatTemplateError("filter 'abs' needs a number, got '\(value.typeName)'", at: position)
            }
            if case .int(let i) = n, i != Int.min { return .int(abs(i)) }
            return .double(abs(n.asDouble))
        case "unique":
            do throws(ChatTemplateError) {
                return JinjaObject.generator(try uniqueFilter(value, args))
            } catch {
                return JinjaObject.failedGenerator(error)
            }
        case "sort": return .array(try sortFilter(value, args))
        case "min", "max":
            // min/max(case_sensitive=False, attribute=None); like Python, the first of equal extremes wins.
            var keyword: [(String, JinjaValue)] = [
                ("reverse", .bool(name == "max")),
                ("case_sensitive", .bool(args.bool(0, "case_sensitive"))),
            ]
            if let attribute = args.get(1, "attribute") { keyword.append(("attribute", attribute)) }
            let sortArgs = JinjaCallArguments(positional: [], keyword: keyword, callee: args.callee, position: position)
            return try sortFilter(value, sortArgs).first ?? .undefined
        case "sum": return try sumFilter(value, args)
        case "indent": return .string(try indentFilter(value.pythonString, args))
        case "wordcount": return .int(JinjaStrings.wordCount(value.pythonString))
        case "round": return try roundFilter(value, args)
        case "dictsort": return .array(try dictSort(value, args))
        case "format":
            guard positional.isEmpty || keyword.isEmpty else {
                throw ChatTemplateError("filter 'format' can't mix positional and keyword arguments", at: position)
            }
            let mapping = keyword.isEmpty ? nil : JinjaObject(keyword)
            return .string(
                try JinjaFormat.format(value.pythonString, positional: positional, mapping: mapping, at: position)
            )
        case "attr":
            // Python getattr only: dict keys are not attributes, so on template data this is always undefined.
            guard try args.string(0, "name") != nil else {
                throw ChatTemplateError("filter 'attr' needs an attribute name", at: position)
            }
            return .undefined
        case "center":
            let text = value.pythonString, width = try args.int(0, "width", default: 80)
            let total = max(0, width - text.unicodeScalars.count)
            // Python's str.center puts the odd extra space on the right unless width and length are both odd.
            let left = total / 2 + (total & width & 1)
            return .string(String(repeating: " ", count: left) + text + String(repeating: " ", count: total - left))
        default:
            throw ChatTemplateError("unknown filter '\(name)'", at: position)
        }
    }

    func length(_ value: JinjaValue, at position: JinjaPosition) throws(ChatTemplateError) -> Int {
        switch value {
        case .undefined: return 0
        case .string(let s): return s.unicodeScalars.count
        case .array(let a): return a.count
        case .object(let o) where o.generatorItems == nil: return o.count
        default: throw ChatTemplateError("object of type '\(value.typeName)' has no len()", at: position)
        }
    }

    func attributeValue(_ value: JinjaValue, _ attribute: String) -> JinjaValue {
        var current = value
        for part in attribute.split(separator: ".") {
            switch current {
            case .object(let o): current = o[String(part)] ?? .undefined
            case .array(let a): current = Int(part).flatMap { a.indices.contains($0) ? a[$0] : nil } ?? .undefined
            default: return .undefined
            }
        }
        return current
    }

    private func toJSON(_ value: JinjaValue, _ args: JinjaCallArguments) throws(ChatTemplateError) -> String {
        var indent: String?
        switch args.get(1, "indent") {
        case .int(let n)?: indent = String(repeating: " ", count: max(0, n))
        case .string(let s)?: indent = s
        case nil, .none?: indent = nil
        case let other?:
            throw ChatTemplateError(
                "filter 'tojson': indent must be an int or string, got '\(other.typeName)'",
                at: args.position
            )
        }
        var separators: (String, String)?
        if let sep = args.get(2, "separators"), case .array(let pair) = sep, pair.count == 2,
            case .string(let item) = pair[0], case .string(let key) = pair[1]
        {
            separators = (item, key)
        }
        let encoder = JinjaJSON(
            indent: indent,
            separators: separators,
            sortKeys: args.bool(3, "sort_keys"),
            ensureASCII: args.bool(0, "ensure_ascii")
        )
        return try encoder.encode(value, at: args.position)
    }

    private func toInt(_ value: JinjaValue, _ args: JinjaCallArguments) throws(ChatTemplateError) -> JinjaValue {
        let fallback = args.get(0, "default") ?? .int(0)
        switch value {
        case .int: return value
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d): return d.isFinite && abs(d) < 9.2e18 ? .int(Int(d)) : fallback
        case .string(let s):
            let trimmed = JinjaStrings.strip(s, nil, leading: true, trailing: true).replacingOccurrences(
                of: "_",
                with: ""
            )
            if let i = Int(trimmed, radix: try args.int(1, "base", default: 10)) { return .int(i) }
            if let d = Double(trimmed), d.isFinite, abs(d) < 9.2e18 { return .int(Int(d)) }
            return fallback
        default: return fallback
        }
    }

    private func toFloat(_ value: JinjaValue, _ args: JinjaCallArguments) throws(ChatTemplateError) -> JinjaValue {
        let fallback = args.get(0, "default") ?? .double(0)
        switch value {
        case .double: return value
        case .int(let i): return .double(Double(i))
        case .bool(let b): return .double(b ? 1 : 0)
        case .string(let s):
            return Double(JinjaStrings.strip(s, nil, leading: true, trailing: true)).map { .double($0) } ?? fallback
        default: return fallback
        }
    }

    private mutating func select(_ name: String, _ value: JinjaValue, _ args: JinjaCallArguments)
        throws(ChatTemplateError) -> [JinjaValue]
    {
        let byAttribute = name.hasSuffix("attr")
        let keep = name.hasPrefix("select")
        var rest = args.positional
        var attribute: String?
        if byAttribute {
            guard case .string(let a)? = rest.first else {
                throw ChatTemplateError("filter '\(name)' needs an attribute name", at: args.position)
            }
            attribute = a
            rest.removeFirst()
        }
        var testName: String?
        if let first = rest.first {
            guard case .string(let t) = first else {
                throw ChatTemplateError("filter '\(name)': test name must be a string", at: args.position)
            }
            testName = t
            rest.removeFirst()
        }
        var result: [JinjaValue] = []
        for item in try iterate(value, what: "\(name) input", at: args.position) {
            let subject = attribute.map { attributeValue(item, $0) } ?? item
            let passed =
                try testName.map { t throws(ChatTemplateError) in try applyTest(t, subject, rest, at: args.position) }
                ?? subject.isTruthy
            if passed == keep { result.append(item) }
        }
        return result
    }

    private mutating func mapFilter(_ value: JinjaValue, _ args: JinjaCallArguments) throws(ChatTemplateError)
        -> [JinjaValue]
    {
        let items = try iterate(value, what: "map input", at: args.position)
        if let attribute = try args.string(99, "attribute") {
            let fallback = args.get(99, "default")
            return items.map { item in
                let v = attributeValue(item, attribute)
                return v == .undefined ? (fallback ?? .undefined) : v
            }
        }
        guard case .string(let filter)? = args.positional.first else {
            throw ChatTemplateError("filter 'map' needs a filter name or attribute=", at: args.position)
        }
        var result: [JinjaValue] = []
        for item in items {
            result.append(
                try applyFilter(filter, item, Array(args.positional.dropFirst()), args.keyword, at: args.position)
            )
        }
        return result
    }

    private func sortFilter(_ value: JinjaValue, _ args: JinjaCallArguments) throws(ChatTemplateError) -> [JinjaValue] {
        let caseSensitive = args.bool(1, "case_sensitive")
        let attribute = try args.string(2, "attribute")
        let keyed = try iterate(value, what: "sort input", at: args.position).map { item -> (JinjaValue, JinjaValue) in
            var key = attribute.map { attributeValue(item, $0) } ?? item
            if !caseSensitive, case .string(let s) = key { key = .string(s.lowercased()) }
            return (key, item)
        }
        var failure: ChatTemplateError?
        let reverse = args.bool(0, "reverse")
        // Python's sorted(reverse=True) keeps equal items in input order, so compare flipped rather than reversing.
        let sorted = keyed.sorted { a, b in
            do throws(ChatTemplateError) {
                let order = try JinjaArithmetic.order(a.0, b.0, op: "<", at: args.position)
                return reverse ? order > 0 : order < 0
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        return sorted.map { $0.1 }
    }

    /// `unique(case_sensitive=False, attribute=None)`: first occurrences, strings compared case-insensitively.
    private func uniqueFilter(_ value: JinjaValue, _ args: JinjaCallArguments) throws(ChatTemplateError) -> [JinjaValue]
    {
        let caseSensitive = args.bool(0, "case_sensitive")
        let attribute = try args.string(1, "attribute")
        var seenKeys: [JinjaValue] = []
        var result: [JinjaValue] = []
        for item in try iterate(value, what: "unique input", at: args.position) {
            var key = attribute.map { attributeValue(item, $0) } ?? item
            switch key {
            case .array, .object:
                throw ChatTemplateError("filter 'unique': unhashable type '\(key.typeName)'", at: args.position)
            case .string(let s) where !caseSensitive: key = .string(s.lowercased())
            default: break
            }
            if !seenKeys.contains(where: { JinjaArithmetic.equals($0, key) }) {
                seenKeys.append(key)
                result.append(item)
            }
        }
        return result
    }

    /// `dictsort(case_sensitive=false, by='key', reverse=false)`: (key, value) pairs in sorted order.
    private func dictSort(_ value: JinjaValue, _ args: JinjaCallArguments) throws(ChatTemplateError) -> [JinjaValue] {
        guard case .object(let o) = value else {
            throw ChatTemplateError("filter 'dictsort' needs a mapping, got '\(value.typeName)'", at: args.position)
        }
        let pairs: [JinjaValue] = o.entries.map { .array([.string($0.key), $0.value]) }
        let byValue = try args.string(1, "by", default: "key") == "value"
        var keyed: [JinjaValue] = []
        for pair in pairs {
            guard case .array(let kv) = pair else { continue }
            keyed.append(.array([byValue ? kv[1] : kv[0], pair]))
        }
        let sortArgs = JinjaCallArguments(
            positional: [],
            keyword: [
                ("reverse", .bool(args.bool(2, "reverse"))),
                ("case_sensitive", .bool(args.bool(0, "case_sensitive"))), ("attribute", .string("0")),
            ],
            callee: args.callee,
            position: args.position
        )
        return try sortFilter(.array(keyed), sortArgs).compactMap { item -> JinjaValue? in
            guard case .array(let kv) = item else { return nil }
            return kv[1]
        }
    }

    private func sumFilter(_ value: JinjaValue, _ args: JinjaCallArguments) throws(ChatTemplateError) -> JinjaValue {
        var total = args.get(1, "start") ?? .int(0)
        let attribute = try args.string(0, "attribute")
        for item in try iterate(value, what: "sum input", at: args.position) {
            total = try JinjaArithmetic.apply(
                "+",
                total,
                attribute.map { attributeValue(item, $0) } ?? item,
                at: args.position
            )
        }
        return total
    }

    private func indentFilter(_ s: String, _ args: JinjaCallArguments) throws(ChatTemplateError) -> String {
        let pad: String
        switch args.get(0, "width") {
        case .string(let p)?: pad = p
        default: pad = String(repeating: " ", count: max(0, try args.int(0, "width", default: 4)))
        }
        let first = args.bool(1, "first"), blank = args.bool(2, "blank")
        let lines = s.split(separator: "\n", omittingEmptySubsequences: false)
        var out = ""
        for (index, line) in lines.enumerated() {
            if index > 0 { out += "\n" }
            let wantsPad = index == 0 ? first : (blank || !line.isEmpty)
            out += (wantsPad ? pad : "") + line
        }
        return out
    }

    private func roundFilter(_ value: JinjaValue, _ args: JinjaCallArguments) throws(ChatTemplateError) -> JinjaValue {
        guard let n = JinjaArithmetic.number(value) else {
            throw ChatTemplateError("filter 'round' needs a number, got '\(value.typeName)'", at: args.position)
        }
        let precision = try args.int(0, "precision", default: 0)
        let scale = pow(10.0, Double(precision))
        let rule: FloatingPointRoundingRule
        switch try args.string(1, "method", default: "common") {
        case "ceil": rule = .up
        case "floor": rule = .down
        default: rule = .toNearestOrEven  // Python's round() is banker's rounding
        }
        return .double((n.asDouble * scale).rounded(rule) / scale)
    }
}
