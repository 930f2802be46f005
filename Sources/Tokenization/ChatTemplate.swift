/// One chat turn as passed to a chat template (`messages[i].role`, `messages[i].content`).
public struct ChatMessage: Sendable, Equatable, Codable {
    /// "system", "user", "assistant", "tool", ... as the template expects.
    public var role: String
    /// The message text.
    public var content: String

    /// Creates a message.
    /// - Parameters:
    ///   - role: the speaker role, e.g. "user".
    ///   - content: the message text.
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

    /// Lexes and parses a template once, so rendering never re-parses.
    /// - Parameter source: the `chat_template` text.
    /// - Throws: `ChatTemplateError` naming the syntax error or unsupported construct (e.g. `{% include %}`,
    ///   an unknown filter outside any `if`) with its line and column.
    public init(source: String) throws {
        self.source = source
        nodes = try JinjaParser.parse(try JinjaLexer.tokenize(source))
    }

    /// Renders a conversation the way transformers' `apply_chat_template(..., tokenize=False)` does.
    /// - Parameters:
    ///   - messages: the conversation, exposed as `messages` (a list of `{role, content}` objects).
    ///   - addGenerationPrompt: exposed as `add_generation_prompt`.
    ///   - bosToken: exposed as `bos_token`; nil leaves it undefined, as transformers does for tokenizers without one.
    ///   - eosToken: exposed as `eos_token`; nil leaves it undefined.
    ///   - extraContext: further variables (e.g. `tools`, `date_string`, `builtin_tools`). `tools` and `documents`
    ///     default to `none` like transformers; the four named arguments above take precedence when non-nil.
    /// - Returns: the prompt text, byte for byte what jinja2 would produce.
    /// - Throws: `ChatTemplateError` for `raise_exception(msg)` (message = `msg`) and runtime errors such as
    ///   using an undefined value, with the line and column of the failing expression.
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
    /// Nothing is added: pass `tools: .none` yourself to match transformers when there are no tools.
    /// - Parameter context: the template's variables (`messages`, `add_generation_prompt`, `bos_token`, ...).
    /// - Returns: the rendered text.
    /// - Throws: `ChatTemplateError`, as for `render(messages:addGenerationPrompt:bosToken:eosToken:extraContext:)`.
    public func render(context: [String: JinjaValue]) throws -> String {
        var renderer = JinjaRenderer(context: context)
        _ = try renderer.execute(nodes)
        return renderer.output
    }
}
