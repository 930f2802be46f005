/// A command's settings after layering: command-line flags beat `SPECULA_*` environment variables,
/// which beat the config file, which beats the defaults. Every value given in any layer is checked
/// (a bad value in the file is an error even when a flag overrides it), and the file may hold only
/// keys the command knows. Environment variables are read only for known keys, since one
/// environment serves several commands (and `SPECULA_CACHE`, `SPECULA_ASSETS`,
/// `SPECULA_WORKER_TOKEN` are not settings).
public struct ResolvedSettings: Sendable {
    /// Names the file to read when `--config` is absent.
    public static let configEnvironmentName = "SPECULA_CONFIG"

    public struct Value: Sendable, Equatable {
        public let text: String
        public let source: SettingSource
    }

    public let schema: SettingsSchema
    public let file: SettingsFile?
    private let values: [String: Value]

    /// `flags` holds the flags given on the command line, by setting name, as text.
    public init(schema: SettingsSchema, flags: [String: String], environment: [String: String],
                file: SettingsFile?) throws(SettingsError) {
        self.schema = schema
        self.file = file
        var values: [String: Value] = [:]
        for key in schema.keys {
            if let value = key.defaultValue { values[key.name] = Value(text: value, source: .defaultValue) }
        }
        for entry in file?.entries ?? [] {
            guard let key = schema[entry.key] else { throw Self.unknownKey(entry, in: file!, schema: schema) }
            try values[key.name] = Self.checked(key, entry.value, .file(path: file!.path, line: entry.line))
        }
        for key in schema.keys {
            if let text = environment[key.environmentName] {
                try values[key.name] = Self.checked(key, text, .environment(key.environmentName))
            }
        }
        for (name, text) in flags {
            guard let key = schema[name] else { preconditionFailure("flag --\(name) is not in the \(schema.command) schema") }
            try values[key.name] = Self.checked(key, text, .flag(key.flag))
        }
        self.values = values
    }

    /// Loads the file `--config` names, else the one `SPECULA_CONFIG` names, else none, then layers.
    public static func load(schema: SettingsSchema, flags: [String: String], configFlag: String?,
                            environment: [String: String]) throws(SettingsError) -> ResolvedSettings {
        let path = configFlag ?? environment[configEnvironmentName].flatMap { $0.isEmpty ? nil : $0 }
        let file = try path.map { path throws(SettingsError) in try SettingsFile(contentsOf: path) }
        return try ResolvedSettings(schema: schema, flags: flags, environment: environment, file: file)
    }

    // MARK: - Reading

    public func value(_ name: String) -> Value? {
        precondition(schema[name] != nil, "\(name) is not a \(schema.command) setting")
        return values[name]
    }

    public func string(_ name: String) -> String? { value(name)?.text }

    /// Checked against the key's range when it was resolved.
    public func integer(_ name: String) -> Int? { value(name).flatMap { Int($0.text) } }

    public func number(_ name: String) -> Double? { value(name).flatMap { Double($0.text) } }

    public func boolean(_ name: String) -> Bool? { value(name).flatMap { SettingKind.boolean($0.text) } }

    /// The value, or an error saying every way to give it.
    public func required(_ name: String) throws(SettingsError) -> String {
        if let text = string(name) { return text }
        let key = schema[name]!
        throw SettingsError("\(schema.command) needs \(key.name) (\(key.kind.allowedValues)): pass \(key.flag), "
            + "set \(key.environmentName), or put '\(key.name) = …' in the config file")
    }

    /// `--threads 4`, `SPECULA_THREADS=4`, `/etc/specula/worker.conf:3: threads = 4` or
    /// `threads = 4 (default)`: for errors about how two settings combine.
    public func origin(_ name: String) -> String {
        guard let value = value(name), let key = schema[name] else { return "\(name) (unset)" }
        switch value.source {
        case .flag(let flag): return "\(flag) \(value.text)"
        case .environment(let variable): return "\(variable)=\(value.text)"
        case .file(let path, let line): return "\(path):\(line): \(key.name) = \(value.text)"
        case .defaultValue: return "\(key.name) = \(value.text) (default)"
        }
    }

    /// Every setting as config-file text (it parses back to the same values): each key under a comment
    /// saying what it is and where its value came from; unset keys commented out.
    public var rendered: String {
        var lines = ["# \(schema.command): flags > SPECULA_* variables > \(file?.path ?? "config file") > defaults"]
        for key in schema.keys {
            guard let value = values[key.name] else {
                lines += ["# \(key.summary) (unset)", "# \(key.name) ="]
                continue
            }
            let text = value.text.first?.isWhitespace == true || value.text.last?.isWhitespace == true ? "\"\(value.text)\"" : value.text
            lines += ["# \(key.summary) (\(value.source))", "\(key.name) = \(text)"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Checks

    private static func checked(_ key: SettingKey, _ text: String, _ source: SettingSource) throws(SettingsError) -> Value {
        guard key.kind.accepts(text) else {
            let place = switch source {
            case .flag(let flag): "\(flag) '\(text)'"
            case .environment(let variable): "\(variable)='\(text)'"
            case .file(let path, let line): "\(path):\(line): \(key.name) = '\(text)'"
            case .defaultValue: "default \(key.name) '\(text)'"
            }
            throw SettingsError("\(place): expected \(key.kind.allowedValues)")
        }
        return Value(text: text, source: source)
    }

    private static func unknownKey(_ entry: SettingsFile.Entry, in file: SettingsFile, schema: SettingsSchema) -> SettingsError {
        let hint = schema.suggestion(for: entry.key).map { " (did you mean '\($0)'?)" } ?? ""
        return SettingsError("\(file.path):\(entry.line): unknown key '\(entry.key)' for \(schema.command)\(hint); "
            + "known keys: \(schema.keys.map(\.name).joined(separator: ", "))")
    }
}
