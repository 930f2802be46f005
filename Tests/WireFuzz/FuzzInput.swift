import NIOCore
import Wire

/// One fuzz input: the bytes a peer could send on a connection, fed to the parser and decoder in
/// chunks whose size the first byte picks. Every decoded message must re-encode and decode to itself;
/// any `WireError` is an expected outcome, anything else (a trap, a leak, a hang) is a bug.
enum FuzzInput {
    /// Small limits, so the fuzzer reaches them quickly.
    static let limits = WireLimits(maxFrameBytes: 1 << 16, maxDecompressedBytes: 1 << 18)

    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        let chunk = Int(first % 17) + 1
        let data = bytes.dropFirst()
        do {
            var parser = FrameParser(limits: limits)
            var decoder = try WireDecoder(limits: limits)
            var offset = data.startIndex
            while offset < data.endIndex {
                let end = min(data.endIndex, offset + chunk)
                parser.append(contentsOf: data[offset..<end])
                offset = end
                while let frame = try parser.next() {
                    check(try decoder.decode(frame))
                }
            }
            try parser.finish()
        } catch {
            // A WireError is the decoder doing its job.
        }
    }

    /// decode(encode(m)) == m, compressed and not.
    static func check(_ message: WireMessage) {
        for threshold in [nil, 0] as [Int?] {
            do {
                var encoder = try WireEncoder(compressionThreshold: threshold, limits: WireLimits(maxFrameBytes: 1 << 20, maxDecompressedBytes: 1 << 22))
                var bytes = ByteBuffer()
                try encoder.encode(message, into: &bytes)
                var parser = FrameParser(limits: WireLimits(maxFrameBytes: 1 << 20, maxDecompressedBytes: 1 << 22))
                var decoder = try WireDecoder(limits: WireLimits(maxFrameBytes: 1 << 20, maxDecompressedBytes: 1 << 22))
                parser.append(bytes)
                guard let frame = try parser.next() else { preconditionFailure("re-encoded \(message.type) does not parse") }
                let again = try decoder.decode(frame)
                precondition(again == message, "\(message.type) does not round-trip: \(message) became \(again)")
            } catch {
                preconditionFailure("re-encoding a decoded \(message.type) failed: \(error)")
            }
        }
    }
}
