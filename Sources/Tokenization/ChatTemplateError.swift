/// A chat template failed to parse or render. `description` is a single line naming the construct and position.
public struct ChatTemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, e.g. "unknown filter 'foo'" or the message passed to `raise_exception`.
    public var message: String
    /// 1-based line of the offending construct in the template source, if known.
    public var line: Int?
    /// 1-based column (in Unicode scalars) of the offending construct, if known.
    public var column: Int?

    public init(_ message: String, line: Int? = nil, column: Int? = nil) {
        self.message = message
        self.line = line
        self.column = column
    }

    init(_ message: String, at position: JinjaPosition?) {
        self.init(message, line: position?.line, column: position?.column)
    }

    public var description: String {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        guard let line, let column else { return "chat template: \(oneLine)" }
        return "chat template: \(oneLine) (line \(line), column \(column))"
    }
}
