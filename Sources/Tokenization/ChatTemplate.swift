/// One chat turn as passed to a chat template (`messages[i].role`, `messages[i].content`).
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A Hugging Face chat template (`tokenizer_config.json` → `chat_template`), parsed once and rendered per request
/// with the same semantics as transformers' `apply_chat_template` (jinja2 with `trim_blocks`, `lstrip_blocks`,
/// loop controls, `raise_exception`, `strftime_now` and a non-HTML-escaping `tojson`).
public struct ChatTemplate: Sendable {
    /// The template text as given.
    public let source: String
    private let nodes: [JinjaNode]

    /// Lexes and parses `source`; syntax errors and unsupported constructs throw with their line and column.
    public init(source: String) throws {
        self.source = source
        nodes = try JinjaParser.parse(try JinjaLexer.tokenize(source))
    }

    /// Renders the conversation. `bosToken`/`eosToken` that are nil are left undefined, as transformers does for
    /// tokenizers without them; `tools` and `documents` are `none` unless `extraContext` sets them.
    /// `extraContext` entries (e.g. `tools`, `date_string`) are visible to the template but cannot replace
    /// `messages`, `add_generation_prompt`, `bos_token` or `eos_token`.
    public func render(
        messages: [ChatMessage],
        addGenerationPrompt: Bool,
        bosToken: String?,
        eosToken: String?,
        extraContext: [String: JinjaValue] = [:]
    ) throws -> String {
        var context: [String: JinjaValue] = ["tools": .none, "documents": .none]
        context.merge(extraContext) { _, new in new }
        context["messages"] = .array(
            messages.map { .object(["role": .string($0.role), "content": .string($0.content)]) }
        )
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        return try render(context: context)
    }

    /// Renders with a caller-built context, for messages richer than role/content (tool calls, structured content).
    public func render(context: [String: JinjaValue]) throws -> String {
        var renderer = JinjaRenderer(context: context)
        _ = try renderer.execute(nodes)
        return renderer.output
    }
}
