#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import NIOCore
import Synchronization

/// Where capture files go: `SPECULA_WIRE_CAPTURE=PREFIX` makes each connection of the process write
/// `PREFIX<sender>-<pid>-<n>.wirecap` (n counts the process's connections from 1). Checked once at
/// start-up, by creating and removing a probe file, so a bad prefix stops the process with a clear
/// message instead of failing on the first connection.
public final class WireCaptureDestination: Sendable {
    public static let environmentVariable = "SPECULA_WIRE_CAPTURE"

    public let prefix: String
    private let connections = Atomic<Int>(0)

    /// The destination `SPECULA_WIRE_CAPTURE` names, or nil when it is unset or empty (the default:
    /// nothing is captured).
    public static func fromEnvironment() throws(WireCaptureError) -> WireCaptureDestination? {
        guard let value = getenv(environmentVariable).map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return try WireCaptureDestination(prefix: value)
    }

    public init(prefix: String) throws(WireCaptureError) {
        self.prefix = prefix
        let probe = "\(prefix)probe-\(getpid())"
        let fd = createFile(probe)
        guard fd >= 0 else {
            let reason = Self.lastError()
            throw WireCaptureError("\(Self.environmentVariable)=\(prefix): cannot create a file at \(probe): \(reason); "
                + "expected a path prefix in a writable directory, e.g. /tmp/specula-capture/run1-")
        }
        closeFile(fd)
        unlink(probe)
    }

    /// Opens the capture file of a new connection.
    public func open(sender: WireCapture.Sender) throws(WireCaptureError) -> WireCaptureWriter {
        let number = connections.add(1, ordering: .relaxed).newValue
        return try WireCaptureWriter(path: "\(prefix)\(sender)-\(getpid())-\(number).wirecap", sender: sender)
    }

    static func lastError() -> String { String(cString: strerror(errno)) }
}

/// `SPECULA_WIRE_TIMING=1` turns on the wire path's timing diagnostics in the worker and the router
/// (`Protocols/wire.md`, "Diagnostics"); unset or any other value: off.
public enum WireTimingSwitch {
    public static let environmentVariable = "SPECULA_WIRE_TIMING"

    public static var isOn: Bool {
        getenv(environmentVariable).map { String(cString: $0) } == "1"
    }
}

/// Appends records to one capture file, buffered (the file is written in 64 KiB pieces, and at
/// ``close()``). Blocking writes: a diagnostic tool, confined to one connection's event loop.
public final class WireCaptureWriter {
    public let path: String
    private var descriptor: Int32
    private var buffer = ByteBuffer()
    private let started: NIODeadline
    private static let flushBytes = 64 << 10

    init(path: String, sender: WireCapture.Sender) throws(WireCaptureError) {
        self.path = path
        descriptor = createFile(path)
        guard descriptor >= 0 else {
            let reason = WireCaptureDestination.lastError()
            throw WireCaptureError("cannot create the wire capture \(path): \(reason)")
        }
        started = .now()
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        WireCapture.writeHeader(sender: sender, startedUnixNanoseconds: UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec),
                                into: &buffer)
    }

    deinit { try? close() }

    /// Nanoseconds from the capture's start to `time` (0 for earlier times).
    public func offset(of time: NIODeadline) -> UInt64 {
        UInt64(max(0, (time - started).nanoseconds))
    }

    public func append(_ record: WireCapture.Record) throws(WireCaptureError) {
        guard descriptor >= 0 else { return }
        WireCapture.write(record, into: &buffer)
        if buffer.readableBytes >= Self.flushBytes { try flush() }
    }

    /// Writes what is buffered and closes the file; later appends are dropped.
    public func close() throws(WireCaptureError) {
        guard descriptor >= 0 else { return }
        defer {
            closeFile(descriptor)
            descriptor = -1
        }
        try flush()
    }

    private func flush() throws(WireCaptureError) {
        while buffer.readableBytes > 0 {
            let written = buffer.withUnsafeReadableBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let reason = WireCaptureDestination.lastError()
                buffer.clear()
                closeFile(descriptor)
                descriptor = -1
                throw WireCaptureError("writing the wire capture \(path) failed: \(reason); capture of this connection stops")
            }
            buffer.moveReaderIndex(forwardBy: written)
        }
        buffer.clear()
    }
}

@available(*, unavailable) extension WireCaptureWriter: Sendable {}

// Free functions: inside the types, their own `open` and `close` methods hide the C ones.
private func createFile(_ path: String) -> Int32 {
    open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
}

private func closeFile(_ descriptor: Int32) {
    _ = close(descriptor)
}
