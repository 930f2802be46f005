/// A configuration mistake, as one line naming where it is (file and line, variable or flag), the
/// key, the value and what is allowed.
public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
