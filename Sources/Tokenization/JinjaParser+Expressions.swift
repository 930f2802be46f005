/// Expression grammar, following jinja2's parser precedence:
/// conditional < or < and < not < comparison < + - < ~ < * / // % < ** < unary < postfix/filters/tests.
extension JinjaParser {
    /// An expression, or several separated by commas (a tuple), as in `{% set a = 1, 2 %}`.
    mutating func parseTuple(withConditional: Bool = true) throws(ChatTemplateError) -> JinjaExpr {
        let first = withConditional ? try parseExpression() : try parseOr()
        guard isOp(",") else { return first }
        var items = [first]
        while isOp(",") {
            advance()
            if current.kind == .blockEnd || current.kind == .variableEnd || isOp(")") { break }
            items.append(withConditional ? try parseExpression() : try parseOr())
        }
        return .tuple(items)
    }

    mutating func parseExpression() throws(ChatTemplateError) -> JinjaExpr {
        try enter()
        defer { depth -= 1 }
        let firstUnknown = unknownNames.count
        let outerSoft = soft
        defer { soft = outerSoft }
        var e = try parseOr()
        var levels = 0
        defer { depth -= levels }
        while isName("if") {
            for k in firstUnknown..<unknownNames.count { unknownNames[k].soft = true }
            soft = true
            advance()
            try enter()
            levels += 1
            let condition = try parseOr()
            var otherwise: JinjaExpr?
            if isName("else") {
                advance()
                otherwise = try parseExpression()
            }
            e = .conditional(then: e, condition: condition, otherwise: otherwise)
        }
        return e
    }

    mutating func parseOr() throws(ChatTemplateError) -> JinjaExpr {
        var e = try parseAnd()
        var levels = 0
        defer { depth -= levels }
        while isName("or") {
            let position = current.position
            advance()
            try enter()
            levels += 1
            e = .binary("or", e, try parseAnd(), position)
        }
        return e
    }

    mutating func parseAnd() throws(ChatTemplateError) -> JinjaExpr {
        var e = try parseNot()
        var levels = 0
        defer { depth -= levels }
        while isName("and") {
            let position = current.position
            advance()
            try enter()
            levels += 1
            e = .binary("and", e, try parseNot(), position)
        }
        return e
    }

    mutating func parseNot() throws(ChatTemplateError) -> JinjaExpr {
        guard isName("not") else { return try parseCompare() }
        let position = current.position
        advance()
        try enter()
        defer { depth -= 1 }
        return .unary("not", try parseNot(), position)
    }

    mutating func parseCompare() throws(ChatTemplateError) -> JinjaExpr {
        let position = current.position
        let first = try parseMath1()
        var rest: [(String, JinjaExpr)] = []
        while true {
            let op: String
            if case .op(let o) = current.kind, ["==", "!=", "<", "<=", ">", ">="].contains(o) {
                op = o
                advance()
            } else if isName("in") {
                op = "in"
                advance()
            } else if isName("not"), next.kind == .name("in") {
                op = "not in"
                advance()
                advance()
            } else {
                break
            }
            rest.append((op, try parseMath1()))
        }
        return rest.isEmpty ? first : .compare(first, rest, position)
    }

    private mutating func parseLeftAssociative(
        _ ops: Set<String>,
        _ operand: (inout JinjaParser) throws(ChatTemplateError) -> JinjaExpr
    )
        throws(ChatTemplateError) -> JinjaExpr
    {
        var e = try operand(&self)
        var levels = 0
        defer { depth -= levels }
        while case .op(let o) = current.kind, ops.contains(o) {
            let position = current.position
            advance()
            try enter()
            levels += 1
            e = .binary(o, e, try operand(&self), position)
        }
        return e
    }

    mutating func parseMath1() throws(ChatTemplateError) -> JinjaExpr {
        try parseLeftAssociative(["+", "-"]) { (p: inout JinjaParser) throws(ChatTemplateError) in try p.parseConcat() }
    }

    mutating func parseConcat() throws(ChatTemplateError) -> JinjaExpr {
        try parseLeftAssociative(["~"]) { (p: inout JinjaParser) throws(ChatTemplateError) in try p.parseMath2() }
    }

    mutating func parseMath2() throws(ChatTemplateError) -> JinjaExpr {
        try parseLeftAssociative(["*", "/", "//", "%"]) { (p: inout JinjaParser) throws(ChatTemplateError) in
            try p.parsePow()
        }
    }

    mutating func parsePow() throws(ChatTemplateError) -> JinjaExpr {
        try parseLeftAssociative(["**"]) { (p: inout JinjaParser) throws(ChatTemplateError) in try p.parseUnary() }
    }

    mutating func parseUnary(withFilter: Bool = true) throws(ChatTemplateError) -> JinjaExpr {
        let position = current.position
        var e: JinjaExpr
        if isOp("-") || isOp("+") {
            let op = isOp("-") ? "-" : "+"
            advance()
            try enter()
            defer { depth -= 1 }
            e = .unary(op, try parseUnary(withFilter: false), position)
        } else {
            e = try parsePrimary()
        }
        e = try parsePostfix(e)
        return withFilter ? try parseFilterExpression(e) : e
    }

    mutating func parsePrimary() throws(ChatTemplateError) -> JinjaExpr {
        let token = current
        switch token.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n, token.position)
            }
        case .string(var s):
            advance()
            while case .string(let more) = current.kind {
                s += more
                advance()
            }
            return .literal(.string(s))
        case .int(let i):
            advance()
            return .literal(.int(i))
        case .float(let d):
            advance()
            return .literal(.double(d))
        case .op("("):
            advance()
            if isOp(")") {
                advance()
                return .tuple([])
            }
            let inner = try parseTuple()
            try expectOp(")", "to close '('")
            return inner
        case .op("["):
            advance()
            var items: [JinjaExpr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",", "between list items") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            advance()
            return .list(items)
        case .op("{"):
            advance()
            var pairs: [(JinjaExpr, JinjaExpr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",", "between dict items") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":", "after dict key")
                pairs.append((key, try parseExpression()))
            }
            advance()
            return .dict(pairs)
        default:
            throw fail("expected an expression")
        }
    }

    mutating func parsePostfix(_ base: JinjaExpr) throws(ChatTemplateError) -> JinjaExpr {
        var e = base
        var levels = 0
        defer { depth -= levels }
        while true {
            let position = current.position
            if isOp(".") || isOp("[") || isOp("(") {
                try enter()
                levels += 1
            }
            if isOp(".") {
                advance()
                switch current.kind {
                case .name(let n):
                    advance()
                    e = .attribute(e, n, position)
                case .int(let i):
                    advance()
                    e = .index(e, .literal(.int(i)), position)
                default:
                    throw fail("expected an attribute name after '.'")
                }
            } else if isOp("[") {
                advance()
                e = try parseSubscript(e, at: position)
            } else if isOp("(") {
                advance()
                e = .call(e, try parseCallArguments(), position)
            } else {
                return e
            }
        }
    }

    private mutating func parseSubscript(_ base: JinjaExpr, at position: JinjaPosition) throws(ChatTemplateError)
        -> JinjaExpr
    {
        var start: JinjaExpr?
        if !isOp(":") { start = try parseExpression() }
        if isOp("]") {
            advance()
            guard let start else { throw fail("expected a subscript") }
            return .index(base, start, position)
        }
        if isOp(",") { throw ChatTemplateError("unsupported tuple subscript", at: current.position) }
        try expectOp(":", "in subscript")
        var stop: JinjaExpr?, step: JinjaExpr?
        if !isOp("]") && !isOp(":") { stop = try parseExpression() }
        if isOp(":") {
            advance()
            if !isOp("]") { step = try parseExpression() }
        }
        try expectOp("]", "to close subscript")
        return .slice(base, start: start, stop: stop, step: step, position)
    }

    /// Arguments after `(`, consuming the closing `)`.
    mutating func parseCallArguments() throws(ChatTemplateError) -> JinjaArguments {
        var args = JinjaArguments()
        while !isOp(")") {
            if !args.positional.isEmpty || !args.keyword.isEmpty { try expectOp(",", "between arguments") }
            if isOp(")") { break }
            if isOp("*") || isOp("**") {
                throw ChatTemplateError("unsupported *args/**kwargs in call", at: current.position)
            }
            if case .name(let n) = current.kind, next.kind == .op("=") {
                advance()
                advance()
                args.keyword.append((n, try parseExpression()))
            } else {
                if !args.keyword.isEmpty { throw fail("positional argument follows keyword argument") }
                args.positional.append(try parseExpression())
            }
        }
        advance()
        return args
    }

    private mutating func parseDottedName(_ context: String) throws(ChatTemplateError) -> String {
        var name = try expectName(context)
        while isOp("."), case .name(let more) = next.kind {
            advance()
            advance()
            name += "." + more
        }
        return name
    }

    mutating func parseFilterExpression(_ base: JinjaExpr) throws(ChatTemplateError) -> JinjaExpr {
        var e = base
        var levels = 0
        defer { depth -= levels }
        while true {
            let position = current.position
            if isOp("|") || isName("is") || isOp("(") {
                try enter()
                levels += 1
            }
            if isOp("|") {
                advance()
                let name = try parseDottedName("after '|'")
                if !JinjaRenderer.knownFilters.contains(name) {
                    unknownNames.append((ChatTemplateError("unknown filter '\(name)'", at: position), soft))
                }
                var args = JinjaArguments()
                if isOp("(") {
                    advance()
                    args = try parseCallArguments()
                }
                e = .filter(e, name, args, position)
            } else if isName("is") {
                advance()
                var negated = false
                if isName("not") {
                    negated = true
                    advance()
                }
                let name = try parseDottedName("after 'is'")
                if !JinjaRenderer.knownTests.contains(name) {
                    unknownNames.append((ChatTemplateError("unknown test '\(name)'", at: position), soft))
                }
                var args = JinjaArguments()
                if isOp("(") {
                    advance()
                    args = try parseCallArguments()
                } else if startsTestArgument {
                    if isName("is") { throw fail("cannot chain multiple tests with 'is'") }
                    args.positional = [try parsePostfix(try parsePrimary())]
                }
                e = .test(e, name, args, negated: negated, position)
            } else if isOp("(") {
                advance()
                e = .call(e, try parseCallArguments(), position)
            } else {
                return e
            }
        }
    }

    /// jinja2 lets a test take one argument without parentheses: `x is divisibleby 3`, `x is sameas none`.
    private var startsTestArgument: Bool {
        switch current.kind {
        case .name(let n): return !["else", "or", "and"].contains(n)
        case .string, .int, .float, .op("("), .op("["), .op("{"): return true
        default: return false
        }
    }
}
