/// Recursive-descent parser for the statement level of the Jinja subset (expressions: JinjaParser+Expressions).
struct JinjaParser {
    var tokens: [JinjaToken]
    var p = 0
    /// Current nesting of blocks and sub-expressions; bounded so hostile input cannot exhaust the stack.
    var depth = 0
    static let maxDepth = 64
    /// jinja2 rejects an unknown filter or test at compile time unless it sits in an `if` statement or a
    /// conditional expression ("soft" frames), where it only fails if evaluated; `soft` tracks that context.
    var soft = false
    var unknownNames: [(error: ChatTemplateError, soft: Bool)] = []

    mutating func enter() throws(ChatTemplateError) {
        depth += 1
        if depth > Self.maxDepth {
            throw ChatTemplateError(
                "template nests blocks or expressions deeper than \(Self.maxDepth) levels",
                at: current.position
            )
        }
    }

    /// Tags jinja2 knows but this renderer does not implement; they get "unsupported" rather than "unknown".
    static let unsupportedTags: Set<String> = [
        "include", "import", "from", "extends", "block", "call", "filter", "with", "autoescape", "do", "trans",
    ]

    static func parse(_ tokens: [JinjaToken]) throws(ChatTemplateError) -> [JinjaNode] {
        var parser = JinjaParser(tokens: tokens)
        let (nodes, end) = try parser.parseBody(until: [], opener: nil)
        if let end { throw ChatTemplateError("unexpected tag '\(end.name)'", at: end.position) }
        if let hard = parser.unknownNames.first(where: { !$0.soft }) { throw hard.error }
        return nodes
    }

    var current: JinjaToken { tokens[min(p, tokens.count - 1)] }
    var next: JinjaToken { tokens[min(p + 1, tokens.count - 1)] }

    mutating func advance() { if p < tokens.count - 1 { p += 1 } }

    func isOp(_ op: String) -> Bool { current.kind == .op(op) }
    func isName(_ name: String) -> Bool { current.kind == .name(name) }

    func fail(_ message: String) -> ChatTemplateError {
        ChatTemplateError(message + ", found \(Self.describe(current.kind))", at: current.position)
    }

    static func describe(_ kind: JinjaToken.Kind) -> String {
        switch kind {
        case .text: return "template text"
        case .variableBegin: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockBegin: return "'{%'"
        case .blockEnd: return "'%}'"
        case .name(let n): return "'\(n)'"
        case .string(let s): return "string '\(s)'"
        case .int(let i): return "integer \(i)"
        case .float(let d): return "float \(d)"
        case .op(let o): return "'\(o)'"
        case .eof: return "end of template"
        }
    }

    mutating func expectOp(_ op: String, _ context: String) throws(ChatTemplateError) {
        guard isOp(op) else { throw fail("expected '\(op)' \(context)") }
        advance()
    }

    mutating func expectBlockEnd(_ tag: String) throws(ChatTemplateError) {
        guard current.kind == .blockEnd else { throw fail("expected '%}' to close '\(tag)'") }
        advance()
    }

    mutating func expectName(_ context: String) throws(ChatTemplateError) -> String {
        guard case .name(let n) = current.kind else { throw fail("expected a name \(context)") }
        advance()
        return n
    }

    /// Parses nodes until one of `endTags` opens a block; returns that tag (its name consumed, `%}` not).
    mutating func parseBody(until endTags: Set<String>, opener: (String, JinjaPosition)?)
        throws(ChatTemplateError) -> ([JinjaNode], (name: String, position: JinjaPosition)?)
    {
        var nodes: [JinjaNode] = []
        while true {
            let token = current
            switch token.kind {
            case .text(let s):
                nodes.append(.text(s))
                advance()
            case .variableBegin:
                advance()
                let e = try parseTuple()
                guard current.kind == .variableEnd else { throw fail("expected '}}' to end the print statement") }
                advance()
                nodes.append(.output(e))
            case .blockBegin:
                advance()
                guard case .name(let tag) = current.kind else { throw fail("expected a tag name after '{%'") }
                let tagPosition = current.position
                if endTags.contains(tag) || tag.hasPrefix("end") || tag == "elif" || tag == "else" {
                    advance()
                    return (nodes, (tag, tagPosition))
                }
                nodes.append(try parseStatement(tag, at: tagPosition))
            case .eof:
                if let (name, position) = opener {
                    let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw ChatTemplateError(
                        "unexpected end of template: '\(name)' block opened at \(position) "
                            + "is not closed (expected \(expected))",
                        at: token.position
                    )
                }
                return (nodes, nil)
            default:
                throw fail("unexpected token")
            }
        }
    }

    /// Parses a block body that must end with exactly `endTag` (or one of `alsoAllowed`).
    mutating func parseBlock(
        _ opener: String,
        at position: JinjaPosition,
        endTag: String,
        alsoAllowed: Set<String> = []
    )
        throws(ChatTemplateError) -> ([JinjaNode], String)
    {
        let allowed = alsoAllowed.union([endTag])
        let (body, end) = try parseBody(until: allowed, opener: (opener, position))
        guard let end, allowed.contains(end.name) else {
            let found = end?.name ?? "end of template"
            throw ChatTemplateError(
                "unexpected tag '\(found)' inside '\(opener)' block opened at \(position)",
                at: end?.position ?? position
            )
        }
        return (body, end.name)
    }

    mutating func parseStatement(_ tag: String, at position: JinjaPosition) throws(ChatTemplateError) -> JinjaNode {
        advance()
        try enter()
        defer { depth -= 1 }
        switch tag {
        case "if": return try parseIf(at: position)
        case "for": return try parseFor(at: position)
        case "set": return try parseSet(at: position)
        case "macro": return try parseMacro(at: position)
        case "break", "continue":
            try expectBlockEnd(tag)
            return tag == "break" ? .breakLoop(position) : .continueLoop(position)
        case "generation":
            try expectBlockEnd(tag)
            let (body, _) = try parseBlock(tag, at: position, endTag: "endgeneration")
            try expectBlockEnd("endgeneration")
            return .generation(body)
        default:
            if Self.unsupportedTags.contains(tag) {
                throw ChatTemplateError("unsupported tag '\(tag)'", at: position)
            }
            throw ChatTemplateError("unknown tag '\(tag)'", at: position)
        }
    }

    mutating func parseIf(at position: JinjaPosition) throws(ChatTemplateError) -> JinjaNode {
        let outerSoft = soft
        soft = true
        defer { soft = outerSoft }
        var branches: [(JinjaExpr, [JinjaNode])] = []
        var condition = try parseExpression()
        while true {
            try expectBlockEnd("if")
            let (body, end) = try parseBlock("if", at: position, endTag: "endif", alsoAllowed: ["elif", "else"])
            branches.append((condition, body))
            switch end {
            case "elif":
                condition = try parseExpression()
            case "else":
                try expectBlockEnd("else")
                let (otherwise, _) = try parseBlock("if", at: position, endTag: "endif")
                try expectBlockEnd("endif")
                return .ifChain(branches, otherwise: otherwise)
            default:
                try expectBlockEnd("endif")
                return .ifChain(branches, otherwise: [])
            }
        }
    }

    mutating func parseFor(at position: JinjaPosition) throws(ChatTemplateError) -> JinjaNode {
        var targets: [String] = []
        let parenthesized = isOp("(")
        if parenthesized { advance() }
        repeat {
            if !targets.isEmpty { advance() }
            targets.append(try expectName("as a for-loop variable"))
        } while isOp(",")
        if parenthesized { try expectOp(")", "after for-loop variables") }
        guard isName("in") else { throw fail("expected 'in' in for loop") }
        advance()
        let iterable = try parseTuple(withConditional: false)
        let outerSoft = soft
        soft = false
        defer { soft = outerSoft }
        var filter: JinjaExpr?
        if isName("if") {
            advance()
            filter = try parseExpression()
        }
        if isName("recursive") { throw ChatTemplateError("unsupported recursive for loop", at: current.position) }
        try expectBlockEnd("for")
        let (body, end) = try parseBlock("for", at: position, endTag: "endfor", alsoAllowed: ["else"])
        var otherwise: [JinjaNode] = []
        if end == "else" {
            try expectBlockEnd("else")
            (otherwise, _) = try parseBlock("for", at: position, endTag: "endfor")
        }
        try expectBlockEnd("endfor")
        return .forLoop(
            targets: targets,
            iterable: iterable,
            filter: filter,
            body: body,
            otherwise: otherwise,
            position
        )
    }

    mutating func parseSet(at position: JinjaPosition) throws(ChatTemplateError) -> JinjaNode {
        let first = try expectName("after 'set'")
        var target = JinjaSetTarget.name(first)
        if isOp(".") {
            advance()
            target = .attribute(first, try expectName("after '.' in set target"))
        } else if isOp(",") {
            var names = [first]
            while isOp(",") {
                advance()
                names.append(try expectName("in set target list"))
            }
            target = .names(names)
        }
        if current.kind == .blockEnd, case .name(let name) = target {
            advance()
            let outerSoft = soft
            soft = false
            defer { soft = outerSoft }
            let (body, _) = try parseBlock("set", at: position, endTag: "endset")
            try expectBlockEnd("endset")
            return .setBlock(name, body)
        }
        if isOp("|") { throw ChatTemplateError("unsupported filtered block set", at: current.position) }
        try expectOp("=", "in set statement")
        let value = try parseTuple()
        try expectBlockEnd("set")
        return .set(target, value, position)
    }

    mutating func parseMacro(at position: JinjaPosition) throws(ChatTemplateError) -> JinjaNode {
        let name = try expectName("after 'macro'")
        try expectOp("(", "after macro name")
        var parameters: [(String, JinjaExpr?)] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",", "between macro parameters") }
            if isOp(")") { break }
            let param = try expectName("as a macro parameter")
            var defaultValue: JinjaExpr?
            if isOp("=") {
                advance()
                defaultValue = try parseExpression()
            }
            parameters.append((param, defaultValue))
        }
        advance()
        try expectBlockEnd("macro")
        let outerSoft = soft
        soft = false
        defer { soft = outerSoft }
        let (body, _) = try parseBlock("macro", at: position, endTag: "endmacro")
        if case .name = current.kind { advance() }
        try expectBlockEnd("endmacro")
        return .macro(JinjaMacro(name: name, parameters: parameters, body: body))
    }
}
