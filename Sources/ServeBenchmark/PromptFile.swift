import Foundation

/// A benchmark prompt file: JSONL, `{"id": String, "prompt": String, "max_tokens": Int}` per line
/// (INTERFACES.md). A missing id becomes the line number; a missing max_tokens becomes 128.
public struct PromptFile: Sendable {
    public struct Prompt: Sendable, Equatable {
        public let id: String
        public let text: String
        public let maxTokens: Int

        public init(id: String, text: String, maxTokens: Int) {
            self.id = id
            self.text = text
            self.maxTokens = maxTokens
        }
    }

    public let path: String
    public let prompts: [Prompt]

    /// The first `limit` prompts of `path`.
    public init(path: String, limit: Int? = nil) throws(PromptFileError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw PromptFileError("cannot read prompts file '\(path)'") }
        var prompts: [Prompt] = []
        for (number, line) in String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if let limit, prompts.count >= limit { break }
            if line.allSatisfy(\.isWhitespace) { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                  let text = object["prompt"] as? String else {
                throw PromptFileError("\(path):\(number + 1): expected {\"id\", \"prompt\", \"max_tokens\"}")
            }
            let maxTokens = object["max_tokens"] as? Int ?? 128
            guard maxTokens > 0 else { throw PromptFileError("\(path):\(number + 1): max_tokens \(maxTokens) must be > 0") }
            prompts.append(Prompt(id: object["id"] as? String ?? "\(number)", text: text, maxTokens: maxTokens))
        }
        guard !prompts.isEmpty else { throw PromptFileError("\(path) holds no prompts") }
        self.path = path
        self.prompts = prompts
    }
}

public struct PromptFileError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
