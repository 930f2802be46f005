/// Executes parsed template nodes against a context, with jinja2's scoping: `for` bodies and macro calls get
/// their own frame (so `set` inside a loop does not leak out, hence `namespace()`), `if` does not.
struct JinjaRenderer {
    enum Binding {
        case value(JinjaValue)
        /// A macro and how many scopes were live where it was defined: calls see those (lexical scoping).
        case macro(JinjaMacro, scopeDepth: Int)
    }

    enum Flow {
        case normal, breakLoop, continueLoop
    }

    var scopes: [[String: Binding]]
    var output = ""
    var macroDepth = 0
    static let maxMacroDepth = 32
    /// Upper bound on any string or list a template builds, so `'x' * 10**12` fails instead of exhausting memory.
    static let maxSize = 1 << 26

    init(context: [String: JinjaValue]) {
        scopes = [context.mapValues { Binding.value($0) }]
    }

    // MARK: Statements

    mutating func execute(_ nodes: [JinjaNode]) throws(ChatTemplateError) -> Flow {
        for node in nodes {
            let flow = try execute(node)
            if case .normal = flow { continue }
            return flow
        }
        return .normal
    }

    mutating func execute(_ node: JinjaNode) throws(ChatTemplateError) -> Flow {
        switch node {
        case .text(let s):
            try append(s)
        case .output(let e):
            try append(try evaluate(e).pythonString)
        case .ifChain(let branches, let otherwise):
            for (condition, body) in branches where try evaluate(condition).isTruthy {
                return try execute(body)
            }
            return try execute(otherwise)
        case .forLoop(let targets, let iterable, let filter, let body, let otherwise, let position):
            return try executeFor(targets, iterable, filter, body, otherwise, position)
        case .set(let target, let e, let position):
            try assign(target, try evaluate(e), position)
        case .setBlock(let name, let body):
            let saved = output
            output = ""
            defer { output = saved }
            _ = try execute(body)
            scopes[scopes.count - 1][name] = .value(.string(output))
        case .macro(let macro):
            scopes[scopes.count - 1][macro.name] = .macro(macro, scopeDepth: scopes.count)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case .generation(let body):
            return try execute(body)
        }
        return .normal
    }

    mutating func append(_ s: String) throws(ChatTemplateError) {
        output += s
        if output.utf8.count > Self.maxSize {
            throw ChatTemplateError("rendered output exceeds \(Self.maxSize) bytes")
        }
    }

    private mutating func executeFor(
        _ targets: [String],
        _ iterableExpr: JinjaExpr,
        _ filter: JinjaExpr?,
        _ body: [JinjaNode],
        _ otherwise: [JinjaNode],
        _ position: JinjaPosition
    )
        throws(ChatTemplateError) -> Flow
    {
        var items = try iterate(try evaluate(iterableExpr), what: iterableExpr.sourceHint, at: position)
        if let filter {
            var kept: [JinjaValue] = []
            for item in items {
                scopes.append(try bind(targets, to: item, at: position))
                defer { scopes.removeLast() }
                if try evaluate(filter).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            return try execute(otherwise)
        }
        for (index, item) in items.enumerated() {
            var frame = try bind(targets, to: item, at: position)
            let loop: JinjaObject = [
                "index": .int(index + 1), "index0": .int(index),
                "revindex": .int(items.count - index), "revindex0": .int(items.count - index - 1),
                "first": .bool(index == 0), "last": .bool(index == items.count - 1), "length": .int(items.count),
                "previtem": index > 0 ? items[index - 1] : .undefined,
                "nextitem": index + 1 < items.count ? items[index + 1] : .undefined,
                "depth": 1, "depth0": 0,
            ]
            frame["loop"] = .value(.object(loop))
            scopes.append(frame)
            let flow = try execute(body)
            scopes.removeLast()
            if case .breakLoop = flow { break }
        }
        return .normal
    }

    private func bind(_ targets: [String], to item: JinjaValue, at position: JinjaPosition)
        throws(ChatTemplateError) -> [String: Binding]
    {
        if targets.count == 1 { return [targets[0]: .value(item)] }
        let parts = try iterate(item, what: "loop item", at: position)
        guard parts.count == targets.count else {
            throw ChatTemplateError(
                "cannot unpack \(parts.count) values into \(targets.count) loop variables",
                at: position
            )
        }
        var frame: [String: Binding] = [:]
        for (name, value) in zip(targets, parts) { frame[name] = .value(value) }
        return frame
    }

    func iterate(_ value: JinjaValue, what: String, at position: JinjaPosition) throws(ChatTemplateError)
        -> [JinjaValue]
    {
        switch value {
        case .undefined: return []
        case .array(let a): return a
        case .object(let o):
            if let failure = o.generatorFailure { throw failure }
            return o.generatorItems ?? o.keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        default: throw ChatTemplateError("'\(value.typeName)' object '\(what)' is not iterable", at: position)
        }
    }

    private mutating func assign(_ target: JinjaSetTarget, _ value: JinjaValue, _ position: JinjaPosition)
        throws(ChatTemplateError)
    {
        switch target {
        case .name(let name):
            scopes[scopes.count - 1][name] = .value(value)
        case .names(let names):
            let parts = try iterate(value, what: "set value", at: position)
            guard parts.count == names.count else {
                throw ChatTemplateError("cannot unpack \(parts.count) values into \(names.count) names", at: position)
            }
            for (name, part) in zip(names, parts) { scopes[scopes.count - 1][name] = .value(part) }
        case .attribute(let name, let attribute):
            guard let level = scopes.lastIndex(where: { $0[name] != nil }),
                case .value(.object(var object)) = scopes[level][name], object.isNamespace
            else {
                throw ChatTemplateError(
                    "cannot assign attribute '\(attribute)' on '\(name)': not a namespace",
                    at: position
                )
            }
            object[attribute] = value
            scopes[level][name] = .value(.object(object))
        }
    }

    func lookup(_ name: String) -> Binding? {
        for scope in scopes.reversed() {
            if let binding = scope[name] { return binding }
        }
        return nil
    }

    // MARK: Macros

    mutating func callMacro(
        _ macro: JinjaMacro,
        scopeDepth: Int,
        _ args: [JinjaValue],
        _ kwargs: [(String, JinjaValue)],
        at position: JinjaPosition
    ) throws(ChatTemplateError) -> JinjaValue {
        guard macroDepth < Self.maxMacroDepth else {
            throw ChatTemplateError("macro '\(macro.name)' recursion deeper than \(Self.maxMacroDepth)", at: position)
        }
        guard args.count <= macro.parameters.count else {
            throw ChatTemplateError(
                "macro '\(macro.name)' takes \(macro.parameters.count) arguments, got \(args.count)",
                at: position
            )
        }
        var frame: [String: Binding] = [:]
        for (index, (name, defaultExpr)) in macro.parameters.enumerated() {
            if index < args.count {
                frame[name] = .value(args[index])
            } else if let kw = kwargs.first(where: { $0.0 == name }) {
                frame[name] = .value(kw.1)
            } else if let defaultExpr {
                frame[name] = .value(try evaluate(defaultExpr))
            } else {
                frame[name] = .value(.undefined)
            }
        }
        if let unknown = kwargs.first(where: { kw in !macro.parameters.contains { $0.0 == kw.0 } }) {
            throw ChatTemplateError("macro '\(macro.name)' has no parameter '\(unknown.0)'", at: position)
        }
        frame[macro.name] = .macro(macro, scopeDepth: scopeDepth)
        let savedScopes = scopes, savedOutput = output
        scopes = Array(scopes.prefix(scopeDepth)) + [frame]
        output = ""
        macroDepth += 1
        defer {
            scopes = savedScopes
            output = savedOutput
            macroDepth -= 1
        }
        _ = try execute(macro.body)
        return .string(output)
    }
}
