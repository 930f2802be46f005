import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket the test binds itself, written against the kernel's `sockaddr_un` rules
/// independently of the module's own address code, so an encoding mistake there shows up here.
final class DatagramReceiver {
    let notifySocket: String
    private let descriptor: Int32
    private let path: String?

    /// Binds a fresh filesystem socket in the temporary directory, or an abstract one (`@name`).
    init(abstract: Bool) throws {
        let name = "specula-notify-test-\(UUID().uuidString.prefix(8))"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes: [UInt8]
        if abstract {
            bytes = [0] + Array(name.utf8)  // leading NUL, no terminator: the length says where it ends
            path = nil
            notifySocket = "@" + name
        } else {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
            bytes = Array(file.utf8) + [0]
            path = file
            notifySocket = file
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(2 + bytes.count)  // sun_family is 2 bytes on Linux
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard result == 0 else { throw TestFailure("bind \(notifySocket): errno \(errno)") }
    }

    deinit {
        close(descriptor)
        if let path { unlink(path) }
    }

    /// The next datagram's text, or nil after `milliseconds` without one.
    func receive(milliseconds: Int32 = 2000) -> String? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count >= 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
