import Foundation

/// A configuration file: one `key = value` per line, keys being the command's long flag names
/// without `--`. Blank lines and lines whose first non-blank character is `#` are ignored; spaces
/// around keys and values are dropped; a value in double quotes keeps its inner spaces (the quotes
/// go). A key may appear once.
public struct SettingsFile: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let key: String
        public let value: String
        public let line: Int

        public init(key: String, value: String, line: Int) {
            self.key = key
            self.value = value
            self.line = line
        }
    }

    public let path: String
    public let entries: [Entry]

    /// Reads and parses `path`.
    public init(contentsOf path: String) throws(SettingsError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SettingsError("config file '\(path)' cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SettingsError("config file '\(path)' is not UTF-8 text")
        }
        try self.init(path: path, text: text)
    }

    public init(path: String, text: String) throws(SettingsError) {
        self.path = path
        var entries: [Entry] = []
        // CRLF is one Character in Swift; isNewline splits at it as at LF and CR.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw SettingsError("\(path):\(number): expected 'key = value', got '\(line)'")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, !key.contains(" ") else {
                throw SettingsError("\(path):\(number): expected 'key = value' with a key of letters, digits and dashes, got '\(line)'")
            }
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            if let earlier = entries.first(where: { $0.key == key }) {
                throw SettingsError("\(path):\(number): '\(key)' is already set at line \(earlier.line); give each key once")
            }
            entries.append(Entry(key: key, value: value, line: number))
        }
        self.entries = entries
    }
}
