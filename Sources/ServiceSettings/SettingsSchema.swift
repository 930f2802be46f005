/// The settings one command takes, in the order `--show-config` lists them.
public struct SettingsSchema: Sendable {
    /// `specula worker`, for messages.
    public let command: String
    public let keys: [SettingKey]

    public init(command: String, keys: [SettingKey]) {
        precondition(Set(keys.map(\.name)).count == keys.count, "setting names must be unique")
        self.command = command
        self.keys = keys
    }

    public subscript(name: String) -> SettingKey? {
        keys.first { $0.name == name }
    }

    /// The known key closest to a misspelt one, when it is close enough to be a likely typo.
    func suggestion(for name: String) -> String? {
        let scored = keys.map { ($0.name, Self.editDistance(name, $0.name)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 3, best.1 * 2 < name.count else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
