#if canImport(Glibc)
import Glibc
#endif

/// A failure to talk to the service manager, as one line naming what failed.
public struct SystemdNotifyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }

    static func system(_ what: String, _ address: NotifySocketAddress) -> SystemdNotifyError {
        SystemdNotifyError("\(what) on NOTIFY_SOCKET \(address): \(String(cString: strerror(errno)))")
    }
}
