#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The receiving end of `NOTIFY_SOCKET`: a datagram socket that collects what a child process reports
/// (`READY=1`, `STATUS=…`, `STOPPING=1`, `WATCHDOG=1`). A supervisor that starts Specula processes
/// itself (tests, `specula serve`) hands ``environmentValue`` to the child as `NOTIFY_SOCKET` and
/// learns when it is ready, as systemd would.
public final class NotifyListener: Sendable {
    public let address: NotifySocketAddress
    private let descriptor: Mutex<Int32>

    /// Binds `address`. A filesystem path must not exist yet; it is removed again by ``close()``.
    public init(address: NotifySocketAddress) throws(SystemdNotifyError) {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw .system("socket(AF_UNIX, SOCK_DGRAM) failed", address) }
        let bound = address.withSockaddr { bind(descriptor, $0, $1) }
        guard bound == 0 else {
            let error = SystemdNotifyError.system("bind failed", address)
            Glibc.close(descriptor)
            throw error
        }
        self.address = address
        self.descriptor = Mutex(descriptor)
    }

    deinit { close() }

    /// What to put in the child's `NOTIFY_SOCKET`.
    public var environmentValue: String { address.description }

    /// The next datagram if one is waiting, else nil.
    public func poll() throws(SystemdNotifyError) -> NotifyMessage? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let result = descriptor.withLock { descriptor -> Int in
            guard descriptor >= 0 else { return -2 }
            return buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        }
        if result >= 0 { return NotifyMessage(String(decoding: buffer[..<result], as: UTF8.self)) }
        if result == -2 { throw SystemdNotifyError("NOTIFY_SOCKET \(address) listener is closed") }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return nil }
        throw .system("recv failed", address)
    }

    /// The next datagram, waiting up to `timeout`; nil when none came.
    public func next(within timeout: Duration) async throws -> NotifyMessage? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let message = try poll() { return message }
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Closes the socket and removes its file (for a path address). Idempotent.
    public func close() {
        descriptor.withLock { descriptor in
            guard descriptor >= 0 else { return }
            Glibc.close(descriptor)
            descriptor = -1
            if address.kind == .path { unlink(address.name) }
        }
    }
}

/// One notification: its `KEY=VALUE` assignments in the order they were sent.
public struct NotifyMessage: Sendable, Equatable, CustomStringConvertible {
    public let assignments: [Field]

    public struct Field: Sendable, Equatable {
        public let key: String
        public let value: String
    }

    /// Parses the newline-separated assignments of a datagram; lines without `=` are kept with an
    /// empty value, so a malformed sender is visible rather than dropped.
    public init(_ text: String) {
        assignments = text.split(separator: "\n").map { line in
            guard let equals = line.firstIndex(of: "=") else { return Field(key: String(line), value: "") }
            return Field(key: String(line[..<equals]), value: String(line[line.index(after: equals)...]))
        }
    }

    /// The last value given for `key`.
    public subscript(key: String) -> String? {
        assignments.last { $0.key == key }?.value
    }

    public var description: String { assignments.map { "\($0.key)=\($0.value)" }.joined(separator: "\\n") }
}
