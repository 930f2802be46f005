/// Expression evaluation with Python/jinja2 semantics (operators, undefined handling, subscripts, calls).
extension JinjaRenderer {
    static let builtinFunctions: Set<String> = ["raise_exception", "strftime_now", "range", "namespace", "dict"]

    mutating func evaluate(_ expr: JinjaExpr) throws(ChatTemplateError) -> JinjaValue {
        switch expr {
        case .literal(let v):
            return v
        case .name(let n, let position):
            switch lookup(n) {
            case .value(let v): return v
            case .macro:
                throw ChatTemplateError("macro '\(n)' used as a value (only calls are supported)", at: position)
            case nil:
                if Self.builtinFunctions.contains(n) {
                    throw ChatTemplateError("function '\(n)' used as a value (only calls are supported)", at: position)
                }
                return .undefined
            }
        case .list(let items), .tuple(let items):
            var values: [JinjaValue] = []
            for item in items { values.append(try evaluate(item)) }
            return .array(values)
        case .dict(let pairs):
            var object = JinjaObject()
            for (k, v) in pairs {
                let key = try evaluate(k)
                guard case .string(let s) = key else {
                    throw ChatTemplateError("unsupported dict key of type '\(key.typeName)' (only strings)", at: nil)
                }
                object[s] = try evaluate(v)
            }
            return .object(object)
        case .attribute(let base, let name, let position):
            let value = try evaluate(base)
            if case .undefined = value { throw undefinedError(base, at: position) }
            if case .object(let o) = value { return o[name] ?? .undefined }
            return .undefined
        case .index(let base, let keyExpr, let position):
            let value = try evaluate(base)
            if case .undefined = value { throw undefinedError(base, at: position) }
            return try subscriptValue(value, try evaluate(keyExpr), at: position)
        case .slice(let base, let start, let stop, let step, let position):
            let value = try evaluate(base)
            if case .undefined = value { throw undefinedError(base, at: position) }
            return try sliceValue(
                value,
                try start.map { e throws(ChatTemplateError) in try evaluate(e) },
                try stop.map { e throws(ChatTemplateError) in try evaluate(e) },
                try step.map { e throws(ChatTemplateError) in try evaluate(e) },
                at: position
            )
        case .unary(let op, let operand, let position):
            return try unary(op, operand, at: position)
        case .binary(let op, let lhs, let rhs, let position):
            return try binary(op, lhs, rhs, at: position)
        case .compare(let first, let rest, let position):
            var left = try evaluate(first)
            for (op, rhs) in rest {
                let right = try evaluate(rhs)
                guard try compare(op, left, right, at: position) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let then, let condition, let otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(then) }
            return try otherwise.map { e throws(ChatTemplateError) in try evaluate(e) } ?? .undefined
        case .filter(let base, let name, let args, let position):
            let value = try evaluate(base)
            let (positional, keyword) = try evaluateArguments(args)
            return try applyFilter(name, value, positional, keyword, at: position)
        case .test(let base, let name, let args, let negated, let position):
            let result: Bool
            if case .name(let n, _) = base, name == "defined" || name == "undefined" || name == "callable",
                lookup(n) == nil && Self.builtinFunctions.contains(n) || isMacro(n)
            {
                result = name != "undefined"
            } else {
                let value = try evaluate(base)
                let (positional, _) = try evaluateArguments(args)
                result = try applyTest(name, value, positional, at: position)
            }
            return .bool(result != negated)
        case .call(let callee, let args, let position):
            return try call(callee, args, at: position)
        }
    }

    private func isMacro(_ name: String) -> Bool {
        if case .macro = lookup(name) { return true }
        return false
    }

    func undefinedError(_ expr: JinjaExpr, at position: JinjaPosition) -> ChatTemplateError {
        ChatTemplateError("'\(expr.sourceHint)' is undefined", at: position)
    }

    mutating func evaluateArguments(_ args: JinjaArguments) throws(ChatTemplateError)
        -> ([JinjaValue], [(String, JinjaValue)])
    {
        var positional: [JinjaValue] = []
        for e in args.positional { positional.append(try evaluate(e)) }
        var keyword: [(String, JinjaValue)] = []
        for (k, e) in args.keyword { keyword.append((k, try evaluate(e))) }
        return (positional, keyword)
    }

    private mutating func unary(_ op: String, _ operand: JinjaExpr, at position: JinjaPosition)
        throws(ChatTemplateError) -> JinjaValue
    {
        let value = try evaluate(operand)
        if op == "not" { return .bool(!value.isTruthy) }
        switch value {
        case .int(let i):
            guard op == "-" else { return value }
            guard i != Int.min else { throw ChatTemplateError("integer overflow in '-'", at: position) }
            return .int(-i)
        case .bool(let b): return .int(op == "-" ? -(b ? 1 : 0) : (b ? 1 : 0))
        case .double(let d): return .double(op == "-" ? -d : d)
        case .undefined: throw undefinedError(operand, at: position)
        default: throw ChatTemplateError("bad operand type for unary \(op): '\(value.typeName)'", at: position)
        }
    }

    private mutating func binary(_ op: String, _ lhs: JinjaExpr, _ rhs: JinjaExpr, at position: JinjaPosition)
        throws(ChatTemplateError) -> JinjaValue
    {
        let left = try evaluate(lhs)
        switch op {
        case "and": return left.isTruthy ? try evaluate(rhs) : left
        case "or": return left.isTruthy ? left : try evaluate(rhs)
        default: break
        }
        let right = try evaluate(rhs)
        if op == "~" {
            let joined = left.pythonString + right.pythonString
            guard joined.utf8.count <= Self.maxSize else {
                throw ChatTemplateError("string too large in '~'", at: position)
            }
            return .string(joined)
        }
        if case .undefined = left { throw undefinedError(lhs, at: position) }
        if op == "%", case .string(let template) = left {
            // A tuple literal supplies several arguments; any other value (a list too) is a single argument.
            var positional = [right]
            if case .tuple = rhs, case .array(let items) = right { positional = items }
            var mapping: JinjaObject?
            if case .object(let o) = right, o.generatorItems == nil { mapping = o }
            return .string(try JinjaFormat.format(template, positional: positional, mapping: mapping, at: position))
        }
        if case .undefined = right { throw undefinedError(rhs, at: position) }
        return try JinjaArithmetic.apply(op, left, right, at: position)
    }

    func compare(_ op: String, _ left: JinjaValue, _ right: JinjaValue, at position: JinjaPosition)
        throws(ChatTemplateError) -> Bool
    {
        switch op {
        case "==": return JinjaArithmetic.equals(left, right)
        case "!=": return !JinjaArithmetic.equals(left, right)
        case "in": return try contains(right, left, at: position)
        case "not in": return try !contains(right, left, at: position)
        default:
            let order = try JinjaArithmetic.order(left, right, op: op, at: position)
            switch op {
            case "<": return order < 0
            case "<=": return order <= 0
            case ">": return order > 0
            default: return order >= 0
            }
        }
    }

    func contains(_ container: JinjaValue, _ item: JinjaValue, at position: JinjaPosition) throws(ChatTemplateError)
        -> Bool
    {
        switch container {
        case .string(let s):
            guard case .string(let needle) = item else {
                throw ChatTemplateError(
                    "'in <string>' requires string as left operand, not '\(item.typeName)'",
                    at: position
                )
            }
            return needle.isEmpty || s.unicodeScalars.contains(needle.unicodeScalars)
        case .array(let a): return a.contains { JinjaArithmetic.equals($0, item) }
        case .object(let o) where o.generatorItems != nil:
            if let failure = o.generatorFailure { throw failure }
            return o.generatorItems?.contains { JinjaArithmetic.equals($0, item) } ?? false
        case .object(let o):
            switch item {
            case .string(let key): return o[key] != nil
            case .array, .object: throw ChatTemplateError("unhashable type: '\(item.typeName)'", at: position)
            default: return false
            }
        case .undefined: return false
        default:
            throw ChatTemplateError("argument of type '\(container.typeName)' is not iterable", at: position)
        }
    }

    func subscriptValue(_ value: JinjaValue, _ key: JinjaValue, at position: JinjaPosition) throws(ChatTemplateError)
        -> JinjaValue
    {
        switch (value, key) {
        case (.object(let o), .string(let k)):
            return o[k] ?? .undefined
        case (.array(let a), .int(let i)):
            let index = i < 0 ? a.count + i : i
            return a.indices.contains(index) ? a[index] : .undefined
        case (.string(let s), .int(let i)):
            let scalars = Array(s.unicodeScalars)
            let index = i < 0 ? scalars.count + i : i
            return scalars.indices.contains(index) ? .string(String(scalars[index])) : .undefined
        case (.array, .bool(let b)):
            return try subscriptValue(value, .int(b ? 1 : 0), at: position)
        default:
            return .undefined
        }
    }

    func sliceValue(
        _ value: JinjaValue,
        _ start: JinjaValue?,
        _ stop: JinjaValue?,
        _ step: JinjaValue?,
        at position: JinjaPosition
    ) throws(ChatTemplateError) -> JinjaValue {
        func bound(_ v: JinjaValue?) throws(ChatTemplateError) -> Int? {
            switch v {
            case nil, .none?: return nil
            case .int(let i)?: return i
            case .bool(let b)?: return b ? 1 : 0
            case let other?:
                throw ChatTemplateError("slice indices must be integers or none, not '\(other.typeName)'", at: position)
            }
        }
        let stepValue = try bound(step) ?? 1
        guard stepValue != 0 else { throw ChatTemplateError("slice step cannot be zero", at: position) }
        switch value {
        case .array(let a):
            let picked = Self.sliceIndices(count: a.count, try bound(start), try bound(stop), stepValue)
            return .array(picked.map { a[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            let picked = Self.sliceIndices(count: scalars.count, try bound(start), try bound(stop), stepValue)
            var out = String.UnicodeScalarView()
            for index in picked { out.append(scalars[index]) }
            return .string(String(out))
        default:
            // Unlike `a[key]`, jinja2 compiles slices to plain Python subscripts, which raise.
            throw ChatTemplateError("'\(value.typeName)' object is not subscriptable with a slice", at: position)
        }
    }

    /// Python's slice.indices semantics.
    static func sliceIndices(count: Int, _ start: Int?, _ stop: Int?, _ step: Int) -> [Int] {
        func clamp(_ v: Int?, _ defaultValue: Int, low: Int, high: Int) -> Int {
            guard var v else { return defaultValue }
            if v < 0 { v += count }
            return min(max(v, low), high)
        }
        var result: [Int] = []
        if step > 0 {
            var i = clamp(start, 0, low: 0, high: count)
            let end = clamp(stop, count, low: 0, high: count)
            while i < end { result.append(i); i += step }
        } else {
            var i = clamp(start, count - 1, low: -1, high: count - 1)
            let end = clamp(stop, -1, low: -1, high: count - 1)
            while i > end { result.append(i); i += step }
        }
        return result
    }
}
