/// Expression nodes of the supported Jinja subset; every node that can fail at render time carries its position.
indirect enum JinjaExpr: Sendable {
    case literal(JinjaValue)
    case name(String, JinjaPosition)
    case list([JinjaExpr])
    case tuple([JinjaExpr])
    case dict([(JinjaExpr, JinjaExpr)])
    case attribute(JinjaExpr, String, JinjaPosition)
    case index(JinjaExpr, JinjaExpr, JinjaPosition)
    case slice(JinjaExpr, start: JinjaExpr?, stop: JinjaExpr?, step: JinjaExpr?, JinjaPosition)
    case unary(String, JinjaExpr, JinjaPosition)
    case binary(String, JinjaExpr, JinjaExpr, JinjaPosition)
    /// `a < b < c` style chains: each operator compares neighbours.
    case compare(JinjaExpr, [(String, JinjaExpr)], JinjaPosition)
    case conditional(then: JinjaExpr, condition: JinjaExpr, otherwise: JinjaExpr?)
    case filter(JinjaExpr, String, JinjaArguments, JinjaPosition)
    case test(JinjaExpr, String, JinjaArguments, negated: Bool, JinjaPosition)
    case call(JinjaExpr, JinjaArguments, JinjaPosition)

    /// Short source-like rendering for error messages ("'message.content' is undefined").
    var sourceHint: String {
        switch self {
        case .name(let n, _): return n
        case .attribute(let base, let name, _): return base.sourceHint + "." + name
        case .index(let base, let key, _): return base.sourceHint + "[" + key.sourceHint + "]"
        case .literal(let v): return v.pythonRepr
        case .call(let f, _, _): return f.sourceHint + "(...)"
        default: return "expression"
        }
    }
}

struct JinjaArguments: Sendable {
    var positional: [JinjaExpr] = []
    var keyword: [(String, JinjaExpr)] = []
}

/// Where `{% set %}` stores its value.
enum JinjaSetTarget: Sendable {
    case name(String)
    case names([String])
    case attribute(String, String)
}

struct JinjaMacro: Sendable {
    var name: String
    var parameters: [(String, JinjaExpr?)]
    var body: [JinjaNode]
}

/// Statement nodes; text has already had whitespace control applied by the lexer.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpr)
    case ifChain([(JinjaExpr, [JinjaNode])], otherwise: [JinjaNode])
    case forLoop(
        targets: [String],
        iterable: JinjaExpr,
        filter: JinjaExpr?,
        body: [JinjaNode],
        otherwise: [JinjaNode],
        JinjaPosition
    )
    case set(JinjaSetTarget, JinjaExpr, JinjaPosition)
    case setBlock(String, [JinjaNode])
    case macro(JinjaMacro)
    case breakLoop(JinjaPosition)
    case continueLoop(JinjaPosition)
    /// `{% generation %}` from transformers' AssistantTracker: renders its body unchanged.
    case generation([JinjaNode])
}
