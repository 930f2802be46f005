/// One setting of a command: its long flag name (the same name in config files), the values it
/// takes, its default, and the environment variable that sets it (`SPECULA_` + the name in capitals,
/// dashes as underscores: `kv-cache-mb` → `SPECULA_KV_CACHE_MB`).
public struct SettingKey: Sendable {
    public let name: String
    public let kind: SettingKind
    /// Used when no layer gives the setting; nil when it has none (optional, or computed by the command).
    public let defaultValue: String?
    /// The line `--help` shows; the default and the allowed values are appended.
    public let summary: String

    public init(_ name: String, _ kind: SettingKind, default defaultValue: String? = nil, _ summary: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.summary = summary
    }

    public var flag: String { "--" + name }

    public var environmentName: String {
        "SPECULA_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// `summary (default: D; allowed: …)`, for `--help`.
    public var help: String {
        var notes: [String] = []
        if let defaultValue { notes.append("default: \(defaultValue)") }
        if case .choice = kind { notes.append(kind.allowedValues) }
        notes.append("env \(environmentName)")
        return "\(summary) (\(notes.joined(separator: "; ")))"
    }
}

/// The values a setting takes; every layer (flag, environment, file, default) is checked the same way.
public enum SettingKind: Sendable {
    /// Any non-empty text.
    case text
    /// A file or folder path (non-empty; whether it exists is the command's business).
    case path
    case integer(ClosedRange<Int>)
    /// A decimal number (seconds, ratios), finite.
    case number(ClosedRange<Double>)
    case choice([String])
    /// `true` or `false` (also `yes`/`no`, `on`/`off`, `1`/`0`).
    case boolean
    /// A value with its own syntax, described for error messages (`HOST:PORT[,HOST:PORT...]`).
    case custom(String, @Sendable (String) -> Bool)

    /// What the error message says is allowed.
    public var allowedValues: String {
        switch self {
        case .text: "a non-empty value"
        case .path: "a path"
        case .integer(let range) where range.upperBound == .max: "an integer >= \(range.lowerBound)"
        case .integer(let range): "an integer from \(range.lowerBound) to \(range.upperBound)"
        case .number(let range) where range.upperBound == .infinity: "a number >= \(Self.show(range.lowerBound))"
        case .number(let range): "a number from \(Self.show(range.lowerBound)) to \(Self.show(range.upperBound))"
        case .choice(let values): "one of \(values.joined(separator: ", "))"
        case .boolean: "true or false"
        case .custom(let syntax, _): syntax
        }
    }

    func accepts(_ value: String) -> Bool {
        switch self {
        case .text, .path: !value.isEmpty
        case .integer(let range): Int(value).map(range.contains) ?? false
        case .number(let range): Double(value).map { $0.isFinite && range.contains($0) } ?? false
        case .choice(let values): values.contains(value)
        case .boolean: Self.boolean(value) != nil
        case .custom(_, let check): check(value)
        }
    }

    /// `30` rather than `30.0` in messages.
    private static func show(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    static func boolean(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "true", "yes", "on", "1": true
        case "false", "no", "off", "0": false
        default: nil
        }
    }
}
