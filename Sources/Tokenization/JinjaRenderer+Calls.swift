import Foundation

/// Tests (`is ...`), global functions (`raise_exception`, `strftime_now`, `range`, `namespace`, `dict`), macro calls
/// and the Python methods templates call on strings and dicts.
extension JinjaRenderer {
    /// Tests `applyTest` implements; the parser rejects others.
    static let knownTests: Set<String> = [
        "defined", "undefined", "none", "true", "false", "boolean", "integer", "float", "number", "string", "mapping",
        "callable", "iterable", "sequence", "even", "odd", "divisibleby", "eq", "equalto", "==", "ne", "!=", "lt",
        "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas", "lower", "upper",
    ]

    static let argumentFreeTests: Set<String> = [
        "defined", "undefined", "none", "true", "false", "boolean", "integer", "float", "number", "string", "mapping",
        "callable", "iterable", "sequence", "even", "odd", "lower", "upper",
    ]

    func applyTest(_ name: String, _ value: JinjaValue, _ args: [JinjaValue], at position: JinjaPosition)
        throws(ChatTemplateError) -> Bool
    {
        func argument() throws(ChatTemplateError) -> JinjaValue {
            guard let first = args.first else {
                throw ChatTemplateError("test '\(name)' needs an argument", at: position)
            }
            return first
        }
        if Self.argumentFreeTests.contains(name), !args.isEmpty {
            throw ChatTemplateError("test '\(name)' takes no arguments, got \(args.count)", at: position)
        }
        switch name {
        case "defined": return value != .undefined
        case "undefined": return value == .undefined
        case "none": return value == .none
        case "true": return value == .bool(true)
        case "false": return value == .bool(false)
        case "boolean": if case .bool = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number": return JinjaArithmetic.number(value) != nil
        case "string": if case .string = value { return true } else { return false }
        case "mapping":
            if case .object(let o) = value { return o.generatorItems == nil } else { return false }
        case "callable": return false
        case "iterable", "sequence":
            switch value {
            case .object(let o) where o.generatorItems != nil: return name == "iterable"  // no len(): not a sequence
            case .undefined, .string, .array, .object: return true
            default: return false
            }
        case "even", "odd":
            if case .undefined = value { throw ChatTemplateError("test '\(name)' on an undefined value", at: position) }
            // Python: value % 2 == 1 (odd) / == 0 (even), so floats work too.
            switch JinjaArithmetic.number(value) {
            case .int(let i)?: return (i & 1 == 0) == (name == "even")
            case .double(let d)?:
                let r = d - 2 * (d / 2).rounded(.down)
                return name == "even" ? r == 0 : r == 1
            case nil: throw ChatTemplateError("test '\(name)' needs a number, got '\(value.typeName)'", at: position)
            }
        case "divisibleby":
            guard case .int(let i)? = JinjaArithmetic.number(value),
                case .int(let d)? = JinjaArithmetic.number(try argument()),
                d != 0
            else {
                throw ChatTemplateError("test 'divisibleby' needs non-zero integers", at: position)
            }
            return i % d == 0
        case "eq", "equalto", "==": return JinjaArithmetic.equals(value, try argument())
        case "ne", "!=": return !JinjaArithmetic.equals(value, try argument())
        case "lt", "lessthan", "<": return try compare("<", value, try argument(), at: position)
        case "le", "<=": return try compare("<=", value, try argument(), at: position)
        case "gt", "greaterthan", ">": return try compare(">", value, try argument(), at: position)
        case "ge", ">=": return try compare(">=", value, try argument(), at: position)
        case "in": return try contains(try argument(), value, at: position)
        case "sameas":
            let other = try argument()
            switch (value, other) {
            case (.none, .none), (.undefined, .undefined): return true
            case (.bool(let a), .bool(let b)): return a == b
            default: return false
            }
        case "lower": if case .string(let s) = value { return s == s.lowercased() } else { return false }
        case "upper": if case .string(let s) = value { return s == s.uppercased() } else { return false }
        default:
            throw ChatTemplateError("unknown test '\(name)'", at: position)
        }
    }

    mutating func call(_ callee: JinjaExpr, _ arguments: JinjaArguments, at position: JinjaPosition)
        throws(ChatTemplateError) -> JinjaValue
    {
        switch callee {
        case .name(let name, _):
            let (positional, keyword) = try evaluateArguments(arguments)
            switch lookup(name) {
            case .macro(let macro, let scopeDepth)?:
                return try callMacro(macro, scopeDepth: scopeDepth, positional, keyword, at: position)
            case .value(let v)?:
                throw ChatTemplateError("'\(name)' (\(v.typeName)) is not callable", at: position)
            case nil:
                let args = JinjaCallArguments(
                    positional: positional,
                    keyword: keyword,
                    callee: "\(name)()",
                    position: position
                )
                return try callFunction(name, args)
            }
        case .attribute(.name("loop", _), "cycle", _):
            // loop.cycle(a, b, ...) picks by the current iteration.
            let (positional, _) = try evaluateArguments(arguments)
            guard case .value(.object(let loop))? = lookup("loop"), case .int(let index)? = loop["index0"],
                !positional.isEmpty
            else {
                throw ChatTemplateError("loop.cycle() needs arguments inside a for loop", at: position)
            }
            return positional[index % positional.count]
        case .attribute(let base, let method, _):
            let value = try evaluate(base)
            if case .undefined = value { throw undefinedError(base, at: position) }
            let (positional, keyword) = try evaluateArguments(arguments)
            let args = JinjaCallArguments(
                positional: positional,
                keyword: keyword,
                callee: "method '\(method)'",
                position: position
            )
            return try callMethod(value, method, args)
        default:
            throw ChatTemplateError("'\(callee.sourceHint)' is not callable", at: position)
        }
    }

    private func callFunction(_ name: String, _ args: JinjaCallArguments) throws(ChatTemplateError) -> JinjaValue {
        switch name {
        case "raise_exception":
            throw ChatTemplateError(args.get(0, "message")?.pythonString ?? "raise_exception called", at: args.position)
        case "strftime_now":
            return .string(try strftimeNow(try args.string(0, "format", default: "") ?? "", at: args.position))
        case "range":
            let ints = try (0..<args.positional.count).map { i throws(ChatTemplateError) in
                try args.int(i, "range argument", default: 0)
            }
            let (start, stop, step): (Int, Int, Int) =
                switch ints.count {
                case 1: (0, ints[0], 1)
                case 2: (ints[0], ints[1], 1)
                case 3: (ints[0], ints[1], ints[2])
                default: throw ChatTemplateError("range() takes 1 to 3 arguments, got \(ints.count)", at: args.position)
                }
            guard step != 0 else { throw ChatTemplateError("range() step must not be zero", at: args.position) }
            let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
            guard count <= 1_000_000 else {
                throw ChatTemplateError("range() of \(count) items is too large", at: args.position)
            }
            return .array((0..<count).map { .int(start + $0 * step) })
        case "namespace", "dict":
            var object = JinjaObject()
            if case .object(let initial)? = args.positional.first { object = initial }
            for (key, value) in args.keyword { object[key] = value }
            object.isNamespace = name == "namespace"
            return .object(object)
        default:
            throw ChatTemplateError("unknown function '\(name)'", at: args.position)
        }
    }

    /// transformers' `strftime_now`: `datetime.now().strftime(format)` in local time; C strftime shares Python's codes.
    private func strftimeNow(_ format: String, at position: JinjaPosition) throws(ChatTemplateError) -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else {
            throw ChatTemplateError("strftime_now: cannot read the clock", at: position)
        }
        var buffer = [CChar](repeating: 0, count: 512)
        let written = strftime(&buffer, buffer.count, format, &parts)
        guard written > 0 || format.isEmpty else {
            throw ChatTemplateError("strftime_now: cannot format '\(format)'", at: position)
        }
        return String(decoding: buffer[0..<written].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func callMethod(_ value: JinjaValue, _ method: String, _ args: JinjaCallArguments) throws(ChatTemplateError)
        -> JinjaValue
    {
        switch value {
        case .string(let s): return try stringMethod(s, method, args)
        case .object(let o) where o.generatorItems == nil:
            switch method {
            case "items": return .array(o.entries.map { .array([.string($0.key), $0.value]) })
            case "keys": return .array(o.keys.map { .string($0) })
            case "values": return .array(o.entries.map(\.value))
            case "get":
                guard case .string(let key)? = args.get(0, "key") else { return args.get(1, "default") ?? .none }
                return o[key] ?? args.get(1, "default") ?? .none
            default: break
            }
        case .array(let items):
            switch method {
            case "index":
                let needle = args.get(0, "value") ?? .undefined
                if let index = items.firstIndex(where: { JinjaArithmetic.equals($0, needle) }) { return .int(index) }
                throw ChatTemplateError("list.index(x): x not in list", at: args.position)
            case "count":
                let needle = args.get(0, "value") ?? .undefined
                return .int(items.filter { JinjaArithmetic.equals($0, needle) }.count)
            default: break
            }
        default: break
        }
        throw ChatTemplateError("unsupported method '\(method)' on '\(value.typeName)'", at: args.position)
    }

    private func stringMethod(_ s: String, _ method: String, _ args: JinjaCallArguments) throws(ChatTemplateError)
        -> JinjaValue
    {
        switch method {
        case "strip", "lstrip", "rstrip":
            let chars = try args.string(0, "chars")
            return .string(JinjaStrings.strip(s, chars, leading: method != "rstrip", trailing: method != "lstrip"))
        case "split":
            let sep = try args.string(0, "sep")
            if sep == "" { throw ChatTemplateError("method 'split': empty separator", at: args.position) }
            return .array(
                JinjaStrings.split(s, sep, maxSplit: try args.int(1, "maxsplit", default: -1)).map { .string($0) }
            )
        case "startswith", "endswith":
            let candidates: [JinjaValue]
            switch args.get(0, "prefix") {
            case .array(let a)?: candidates = a
            case let v?: candidates = [v]
            case nil: throw ChatTemplateError("method '\(method)' needs an argument", at: args.position)
            }
            for candidate in candidates {
                guard case .string(let c) = candidate else {
                    throw ChatTemplateError(
                        "method '\(method)' needs strings, got '\(candidate.typeName)'",
                        at: args.position
                    )
                }
                let hit =
                    method == "startswith"
                    ? s.unicodeScalars.starts(with: c.unicodeScalars)
                    : s.unicodeScalars.reversed().starts(with: c.unicodeScalars.reversed())
                if hit { return .bool(true) }
            }
            return .bool(false)
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "isdigit", "isalpha", "isalnum", "isspace":
            let test: (Unicode.Scalar) -> Bool =
                switch method {
                case "isdigit": { $0.properties.numericType == .decimal || $0.properties.numericType == .digit }
                case "isalpha": { $0.properties.isAlphabetic }
                case "isalnum": { $0.properties.isAlphabetic || $0.properties.numericType != nil }
                default: JinjaLexer.isSpace
                }
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(test))
        case "title": return .string(JinjaStrings.titleMethod(s))
        case "capitalize": return .string(JinjaStrings.capitalize(s))
        case "replace":
            guard let old = try args.string(0, "old"), let new = try args.string(1, "new") else {
                throw ChatTemplateError("method 'replace' needs two strings", at: args.position)
            }
            return .string(JinjaStrings.replace(s, old, new, count: try args.int(2, "count", default: -1)))
        case "find": return .int(JinjaStrings.find(s, try args.string(0, "sub") ?? ""))
        case "count":
            guard let sub = try args.string(0, "sub"), !sub.isEmpty else { return .int(s.unicodeScalars.count + 1) }
            return .int(JinjaStrings.split(s, sub, maxSplit: -1).count - 1)
        case "join":
            guard case .array(let items)? = args.get(0, "iterable") else {
                throw ChatTemplateError("method 'join' needs a list", at: args.position)
            }
            var parts: [String] = []
            for item in items {
                guard case .string(let p) = item else {
                    throw ChatTemplateError(
                        "method 'join': expected str items, found '\(item.typeName)'",
                        at: args.position
                    )
                }
                parts.append(p)
            }
            return .string(parts.joined(separator: s))
        default:
            throw ChatTemplateError("unsupported method '\(method)' on 'str'", at: args.position)
        }
    }
}
