import Foundation

/// The API keys clients must present (`Authorization: Bearer KEY`) on `/v1/*`, `/tokenize` and
/// `/detokenize`. Compared in constant time: the work depends only on the presented key's length,
/// never on where it first differs from a configured one, or on which key it matches.
public struct APIKeys: Sendable {
    private let keys: [[UInt8]]

    /// - Parameter keys: non-empty keys without surrounding whitespace.
    public init(_ keys: [String]) throws {
        let cleaned = keys.map { $0.trimmingCharacters(in: .whitespaces) }
        guard !cleaned.isEmpty, !cleaned.contains(where: \.isEmpty) else {
            throw RouterError("API keys: expected at least one non-empty key")
        }
        guard cleaned.allSatisfy({ $0.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } }) else {
            throw RouterError("API keys: a key holds spaces or non-ASCII characters; keys are printable ASCII without spaces")
        }
        self.keys = cleaned.map { Array($0.utf8) }
    }

    /// Reads one key per line; blank lines and lines starting with `#` are skipped.
    public init(file: String) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw RouterError("--api-key-file '\(file)' cannot be read")
        }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !lines.isEmpty else { throw RouterError("--api-key-file '\(file)' holds no key (one key per line)") }
        do {
            try self.init(lines)
        } catch let error as RouterError {
            throw RouterError("--api-key-file '\(file)': \(error.description.replacingOccurrences(of: "API keys: ", with: ""))")
        }
    }

    public var count: Int { keys.count }

    /// Whether `candidate` is one of the keys, compared against all of them in constant time.
    public func contains(_ candidate: some Collection<UInt8>) -> Bool {
        let presented = Array(candidate)
        var matched: UInt8 = 0
        for key in keys {
            var difference: UInt8 = key.count == presented.count ? 0 : 1
            let length = max(key.count, 1)
            for (index, byte) in presented.enumerated() {
                difference |= byte ^ key[index % length]
            }
            matched |= difference == 0 ? 1 : 0
        }
        return matched == 1
    }

    /// Checks an `Authorization` header value.
    /// - Throws: ``OpenAIError`` 401 saying what is missing or wrong.
    func authorize(_ header: String?) throws(OpenAIError) {
        guard let header, !header.isEmpty else {
            throw .unauthorized("missing API key: send the header \"Authorization: Bearer <key>\"")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw .unauthorized("the Authorization header is not \"Bearer <key>\"")
        }
        guard contains(parts[1].trimmingCharacters(in: .whitespaces).utf8) else {
            throw .unauthorized("incorrect API key provided")
        }
    }
}
