import CZstd
public import NIOCore

/// One side's zstd decompression context, reused for every frame of a connection. It never writes
/// more than the size the frame declared, so a small frame cannot expand into a large allocation.
public final class ZstdDecompressor {
    private let context: OpaquePointer
    /// Window the receiver accepts: 2^20 (1 MiB) of history per connection.
    public static let windowLogMax: Int32 = 20

    public init() throws(WireError) {
        guard let context = ZSTD_createDCtx() else { throw WireError(.internalError, "zstd: cannot allocate a decompression context") }
        self.context = context
        let code = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Self.windowLogMax)
        if ZSTD_isError(code) != 0 { throw WireError(.internalError, "zstd: set windowLogMax failed: \(String(cString: ZSTD_getErrorName(code)))") }
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Decodes the next flushed chunk of the peer's stream, which must produce exactly `size` bytes.
    /// - Throws: `.corruptCompression` for bad zstd data, `.decompressedTooLarge` when the chunk
    ///   produces more or fewer bytes than `size`.
    public func decompressFlushed(_ input: ByteBuffer, size: Int, into output: inout ByteBuffer) throws(WireError) {
        let outcome: Outcome = input.withUnsafeReadableBytes { source in
            var produced = 0
            var outcome = Outcome.ok
            // One spare byte: a chunk that would decode to more than `size` shows itself by filling it.
            _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: size + 1) { target in
                var inBuffer = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
                var outBuffer = ZSTD_outBuffer(dst: target.baseAddress, size: size + 1, pos: 0)
                while true {
                    let code = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                    if ZSTD_isError(code) != 0 { outcome = .corrupt(String(cString: ZSTD_getErrorName(code))); break }
                    if outBuffer.pos > size { outcome = .tooLarge(outBuffer.pos); break }
                    // Input consumed and output not full: zstd has flushed all it can.
                    if inBuffer.pos == inBuffer.size { break }
                }
                produced = outBuffer.pos
                if case .ok = outcome, produced != size { outcome = .short(produced) }
                if case .ok = outcome { return size }
                return 0
            }
            return outcome
        }
        switch outcome {
        case .ok: return
        case .corrupt(let name): throw WireError(.corruptCompression, "zstd data of \(input.readableBytes) bytes does not decode: \(name)")
        case .tooLarge: throw WireError(.decompressedTooLarge, "zstd data of \(input.readableBytes) bytes decodes to more than the declared \(size) bytes")
        case .short(let got): throw WireError(.decompressedTooLarge, "zstd data of \(input.readableBytes) bytes decodes to \(got) bytes; the frame declared \(size)")
        }
    }

    /// Decodes one self-contained zstd frame whose header states a content size of at most `limit`.
    public func decompressFrame(_ input: ByteBuffer, limit: Int, into output: inout ByteBuffer) throws(WireError) {
        let size = input.withUnsafeReadableBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        guard size != ZSTD_CONTENTSIZE_ERROR, size != ZSTD_CONTENTSIZE_UNKNOWN else {
            throw WireError(.corruptCompression, "zstd frame of \(input.readableBytes) bytes has no readable content size")
        }
        guard size <= UInt64(limit) else {
            throw WireError(.decompressedTooLarge, "zstd frame declares \(size) bytes; the limit is \(limit)")
        }
        let code: Int = input.withUnsafeReadableBytes { source in
            var code = 0
            _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: Int(size)) { target in
                code = ZSTD_decompressDCtx(context, target.baseAddress, Int(size), source.baseAddress, source.count)
                return ZSTD_isError(code) != 0 ? 0 : code
            }
            return code
        }
        if ZSTD_isError(code) != 0 {
            throw WireError(.corruptCompression, "zstd frame of \(input.readableBytes) bytes does not decode: \(String(cString: ZSTD_getErrorName(code)))")
        }
    }

    private enum Outcome { case ok, corrupt(String), tooLarge(Int), short(Int) }
}

// Confined to one channel's event loop; never shared across threads.
@available(*, unavailable) extension ZstdDecompressor: Sendable {}
