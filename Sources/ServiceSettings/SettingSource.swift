/// Where a setting's value came from.
public enum SettingSource: Sendable, Equatable, CustomStringConvertible {
    case flag(String)
    case environment(String)
    case file(path: String, line: Int)
    case defaultValue

    public var description: String {
        switch self {
        case .flag(let flag): "from \(flag)"
        case .environment(let variable): "from \(variable)"
        case .file(let path, let line): "from \(path):\(line)"
        case .defaultValue: "default"
        }
    }
}
