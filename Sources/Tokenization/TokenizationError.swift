/// A tokenizer file or vocabulary that cannot be used, described in one line: which file, which key,
/// what was found there and what was expected.
public struct TokenizationError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let key: String
    public let found: String
    public let expected: String

    public init(file: String, key: String, found: String, expected: String) {
        self.file = file
        self.key = key
        self.found = found
        self.expected = expected
    }

    public var description: String {
        let location = key.isEmpty ? file : "\(file): \(key)"
        return "\(location): found \(found), expected \(expected)"
    }
}
