import NIOCore
import Wire

/// One fuzz input: the bytes a peer could send on a connection, fed to the parser and decoder in
/// chunks whose size the first byte picks. Every decoded message must re-encode and decode to itself;
/// any `WireError` is an expected outcome, anything else (a trap, a leak, a hang) is a bug.
enum FuzzInput {
    /// Small limits, so the fuzzer reaches them quickly.
    static let limits = WireLimits(maxFrameBytes: 1 << 16, maxDecompressedBytes: 1 << 18)

    /// - Returns: the messages decoded and the error that stopped decoding, if any (for the replay tool).
    @discardableResult
    static func run(_ bytes: UnsafeRawBufferPointer) -> (decoded: Int, error: WireError?) {
        guard let first = bytes.first else { return (0, nil) }
        var decoded = 0
        let chunk = Int(first % 17) + 1
        let data = bytes.dropFirst()
        do {
            var parser = FrameParser(limits: limits)
            var decoder = try WireDecoder(limits: limits)
            var plain = try RoundTrip(threshold: nil)
            var compressed = try RoundTrip(threshold: 0)
            var offset = data.startIndex
            while offset < data.endIndex {
                let end = min(data.endIndex, offset + chunk)
                parser.append(contentsOf: data[offset..<end])
                offset = end
                while let frame = try parser.next() {
                    let message = try decoder.decode(frame)
                    plain.check(message)
                    compressed.check(message)
                    decoded += 1
                }
            }
            try parser.finish()
            return (decoded, nil)
        } catch {
            // A WireError is the decoder doing its job.
            return (decoded, error)
        }
    }

    /// Encoder → decoder pairs that re-encode each decoded message, one uncompressed and one compressed
    /// through a stream, made once per input (zstd contexts are costly to set up).
    struct RoundTrip {
        static let limits = WireLimits(maxFrameBytes: 1 << 20, maxDecompressedBytes: 1 << 22)
        var encoder: WireEncoder
        var parser = FrameParser(limits: limits)
        var decoder: WireDecoder

        init(threshold: Int?) throws(WireError) {
            encoder = try WireEncoder(compressionThreshold: threshold, limits: Self.limits)
            decoder = try WireDecoder(limits: Self.limits)
        }

        /// decode(encode(m)) == m.
        mutating func check(_ message: WireMessage) {
            do {
                var bytes = ByteBuffer()
                try encoder.encode(message, into: &bytes)
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
