import Foundation

/// The chat-template fields of a `tokenizer_config.json`: the template source and the BOS/EOS token strings.
public struct ChatTemplateConfig: Sendable, Equatable {
    /// `chat_template` (a string, or the entry named "default" of a list of `{name, template}`); nil if absent.
    public var template: String?
    /// Every template by name: a list's entries (e.g. "default", "tool_use", "rag"), or a plain string as "default".
    public var namedTemplates: [String: String] = [:]
    /// `bos_token` (a string or an AddedToken object's `content`); nil if absent or null.
    public var bosToken: String?
    /// `eos_token`, like `bosToken`.
    public var eosToken: String?

    /// Creates a configuration from already-known values.
    public init(template: String?, bosToken: String?, eosToken: String?) {
        self.template = template
        self.bosToken = bosToken
        self.eosToken = eosToken
    }

    /// Reads a `tokenizer_config.json`.
    /// - Parameters:
    ///   - data: the file's bytes.
    ///   - source: names the file in error messages.
    /// - Throws: `ChatTemplateError` naming the file and key when the JSON or a field has the wrong shape.
    public init(tokenizerConfigJSON data: Data, source: String = "tokenizer_config.json") throws {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ChatTemplateError("\(source): not valid JSON (\(error.localizedDescription))")
        }
        guard let config = root as? [String: Any] else {
            throw ChatTemplateError("\(source): expected a JSON object at the top level")
        }
        namedTemplates = try Self.templates(config["chat_template"], source: source)
        template = namedTemplates["default"]
        bosToken = try Self.token(config["bos_token"], key: "bos_token", source: source)
        eosToken = try Self.token(config["eos_token"], key: "eos_token", source: source)
    }

    /// Reads `tokenizer_config.json` from a file.
    /// - Parameter url: the file's location.
    /// - Throws: `ChatTemplateError` naming the path when it cannot be read or parsed.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ChatTemplateError("\(url.path): cannot read (\(error.localizedDescription))")
        }
        try self.init(tokenizerConfigJSON: data, source: url.path)
    }

    private static func templates(_ value: Any?, source: String) throws -> [String: String] {
        switch value {
        case nil, is NSNull: return [:]
        case let s as String: return ["default": s]
        case let list as [Any]:
            var named: [String: String] = [:]
            for entry in list {
                guard let entry = entry as? [String: Any], let name = entry["name"] as? String,
                    let template = entry["template"] as? String
                else {
                    throw ChatTemplateError("\(source): chat_template list entries must be {name, template} objects")
                }
                named[name] = template
            }
            guard named["default"] != nil else {
                throw ChatTemplateError(
                    "\(source): chat_template list has no \"default\" entry (found \(named.keys.sorted()))"
                )
            }
            return named
        case let other?:
            throw ChatTemplateError("\(source): chat_template must be a string or a list, found \(type(of: other))")
        }
    }

    /// Special tokens are either strings or AddedToken objects with a "content" field.
    private static func token(_ value: Any?, key: String, source: String) throws -> String? {
        switch value {
        case nil, is NSNull: return nil
        case let s as String: return s
        case let object as [String: Any]:
            guard let content = object["content"] as? String else {
                throw ChatTemplateError("\(source): \(key) object has no string \"content\"")
            }
            return content
        default:
            throw ChatTemplateError("\(source): \(key) must be a string or an object with \"content\"")
        }
    }
}
