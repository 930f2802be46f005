#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd (or anything listening on `NOTIFY_SOCKET`) how the service is doing, in the
/// `sd_notify(3)` protocol: newline-separated `KEY=VALUE` assignments in one datagram to an `AF_UNIX`
/// socket. Without `NOTIFY_SOCKET` every call does nothing, so the same binary runs under
/// `Type=notify`, under `Type=exec` and by hand.
///
/// Each message goes out through a fresh socket, as libsystemd does: no descriptor is held open
/// between calls, so the notifier is a plain value that any thread may use. Sending never blocks.
public struct SystemdNotifier: Sendable {
    public typealias Assignment = (key: String, value: String)

    /// Where messages go; nil when the process was not started with `NOTIFY_SOCKET`.
    public let address: NotifySocketAddress?
    /// How often to send `WATCHDOG=1`: half of `WATCHDOG_USEC`, as sd_watchdog_enabled(3) advises;
    /// nil when the service manager expects no pings from this process (`WATCHDOG_USEC` unset, or
    /// `WATCHDOG_PID` names another process).
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`. A malformed `NOTIFY_SOCKET` is an
    /// error (the unit file or the supervisor is wrong); a malformed watchdog setting disables pings,
    /// as libsystemd does.
    public init(environment: [String: String], processID: Int32 = getpid()) throws(SystemdNotifyError) {
        if let text = environment["NOTIFY_SOCKET"], !text.isEmpty {
            address = try NotifySocketAddress(text)
        } else {
            address = nil
        }
        watchdogInterval = Self.watchdogInterval(environment, processID: processID)
    }

    /// From this process's environment.
    public init() throws(SystemdNotifyError) {
        var environment: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        try self.init(environment: environment)
    }

    public var isEnabled: Bool { address != nil }

    static func watchdogInterval(_ environment: [String: String], processID: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], Int32(pid) != processID { return nil }
        return .microseconds(Int64(clamping: microseconds / 2))
    }

    // MARK: - Messages

    /// `READY=1`: start-up is complete (systemd then starts the units ordered after this one).
    public func ready(status: String? = nil) throws(SystemdNotifyError) {
        try send([("READY", "1")] + Self.statusField(status))
    }

    /// `STOPPING=1`: the service began shutting down (here: draining).
    public func stopping(status: String? = nil) throws(SystemdNotifyError) {
        try send([("STOPPING", "1")] + Self.statusField(status))
    }

    /// `STATUS=…`: the line `systemctl status` shows.
    public func status(_ text: String) throws(SystemdNotifyError) {
        try send([("STATUS", text)])
    }

    /// `WATCHDOG=1`: the keep-alive ping.
    public func watchdog() throws(SystemdNotifyError) {
        try send([("WATCHDOG", "1")])
    }

    /// Sends the assignments, in order, as one datagram. A newline inside a value would start another
    /// assignment, so newlines become spaces.
    public func send(_ assignments: [Assignment]) throws(SystemdNotifyError) {
        guard let address, !assignments.isEmpty else { return }
        let text = assignments.map { "\($0.key)=\(Self.oneLine($0.value))" }.joined(separator: "\n")
        try Self.sendDatagram(Array(text.utf8), to: address)
    }

    private static func statusField(_ status: String?) -> [Assignment] {
        status.map { [("STATUS", $0)] } ?? []
    }

    private static func oneLine(_ value: String) -> String {
        String(value.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }

    private static func sendDatagram(_ bytes: [UInt8], to address: NotifySocketAddress) throws(SystemdNotifyError) {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .system("socket(AF_UNIX, SOCK_DGRAM) failed", address) }
        defer { close(descriptor) }
        let sent = address.withSockaddr { sockaddr, length in
            bytes.withUnsafeBytes { buffer in
                // Never wait: a reader that stops reading (a stuck supervisor, a test) must not stall the
                // event loop that pings; a full queue is an error the caller logs.
                sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), sockaddr, length)
            }
        }
        guard sent == bytes.count else { throw .system("sendto failed", address) }
    }
}
