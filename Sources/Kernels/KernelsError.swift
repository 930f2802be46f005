/// Errors of the Kernels module.
public enum KernelsError: Error, CustomStringConvertible, Equatable {
    case invalidShape(name: String, found: String, expected: String)

    public var description: String {
        switch self {
        case let .invalidShape(name, found, expected):
            "weight matrix '\(name)': found \(found), expected \(expected)"
        }
    }
}
