#if canImport(Glibc)
import Glibc
#endif

/// The address in `NOTIFY_SOCKET`: a filesystem path (`/run/systemd/notify`) or, with a leading `@`,
/// a name in the abstract namespace (no file; the kernel keeps it). Other forms (`vsock:`) are refused
/// with a message naming the value.
public struct NotifySocketAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case path
        case abstract
    }

    public let kind: Kind
    /// The path, or the abstract name without its `@`.
    public let name: String

    /// Room in `sockaddr_un.sun_path` (108 bytes on Linux); a path also needs its terminating NUL,
    /// an abstract name its leading NUL.
    static let capacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)

    public init(_ text: String) throws(SystemdNotifyError) {
        if text.hasPrefix("@") {
            kind = .abstract
            name = String(text.dropFirst())
        } else if text.hasPrefix("/") {
            kind = .path
            name = text
        } else {
            throw SystemdNotifyError("NOTIFY_SOCKET '\(text)' is not supported; expected an absolute path or @abstract-name")
        }
        guard !name.isEmpty, name.utf8.count + 1 <= Self.capacity else {
            throw SystemdNotifyError("NOTIFY_SOCKET '\(text)' is \(text.utf8.count) bytes; expected 2 to \(Self.capacity - 1)")
        }
    }

    public var description: String { kind == .abstract ? "@" + name : name }

    /// Calls `body` with the `sockaddr_un` and its length as `bind`/`sendto` take them.
    func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        let offset = kind == .abstract ? 1 : 0  // abstract: sun_path[0] stays NUL
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in bytes.enumerated() { path[offset + index] = byte }
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        // A path is counted with its NUL; an abstract name exactly (trailing NULs would be part of it).
        let length = pathOffset + offset + bytes.count + (kind == .path ? 1 : 0)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(length)) }
        }
    }
}
