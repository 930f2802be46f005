import CZstd
public import NIOCore

/// One side's zstd compression context, reused for every frame of a connection.
///
/// Two uses: ``compressFlushed(_:into:)`` continues the connection's single zstd stream and flushes
/// it, so the peer can decode the frame at once while later frames still reference earlier ones (the
/// protocol's choice, `Protocols/wire.md`, "Compression"); ``compressFrame(_:into:)`` writes a
/// self-contained zstd frame (the alternative we measured).
public final class ZstdCompressor {
    private let context: OpaquePointer

    /// - Parameters:
    ///   - level: zstd level (1: fastest; the protocol uses 1).
    ///   - windowLog: log2 of the back-reference window; the receiver accepts at most 2^20.
    public init(level: Int32 = 1, windowLog: Int32 = 17) throws(WireError) {
        guard let context = ZSTD_createCCtx() else { throw WireError(.internalError, "zstd: cannot allocate a compression context") }
        self.context = context
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "set level \(level)")
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, windowLog), "set windowLog \(windowLog)")
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Appends `input` to the connection's stream and flushes it: the bytes written to `output` decode
    /// to exactly `input` given every earlier flushed chunk.
    public func compressFlushed(_ input: ByteBuffer, into output: inout ByteBuffer) throws(WireError) {
        try compress(input, into: &output, directive: ZSTD_e_flush)
    }

    /// Writes `input` as one complete zstd frame, with its content size, independent of other frames.
    public func compressFrame(_ input: ByteBuffer, into output: inout ByteBuffer) throws(WireError) {
        try check(ZSTD_CCtx_reset(context, ZSTD_reset_session_only), "reset")
        try check(ZSTD_CCtx_setPledgedSrcSize(context, UInt64(input.readableBytes)), "pledge size")
        try compress(input, into: &output, directive: ZSTD_e_end)
    }

    private func compress(_ input: ByteBuffer, into output: inout ByteBuffer, directive: ZSTD_EndDirective) throws(WireError) {
        let bound = ZSTD_compressBound(input.readableBytes) + 32
        var failure: Int = 0
        input.withUnsafeReadableBytes { source in
            _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { target in
                var inBuffer = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
                var outBuffer = ZSTD_outBuffer(dst: target.baseAddress, size: target.count, pos: 0)
                // With the output at the compress bound, one call finishes; loop for the flush epilogue.
                repeat {
                    let remaining = ZSTD_compressStream2(context, &outBuffer, &inBuffer, directive)
                    if ZSTD_isError(remaining) != 0 { failure = remaining; return 0 }
                    if remaining == 0 { return outBuffer.pos }
                } while outBuffer.pos < outBuffer.size
                failure = -1
                return 0
            }
        }
        if failure == -1 {
            throw WireError(.internalError, "zstd: compressing \(input.readableBytes) bytes overran the compress bound")
        }
        try check(failure, "compress \(input.readableBytes) bytes")
    }

    private func check(_ code: Int, _ what: String) throws(WireError) {
        if ZSTD_isError(code) != 0 {
            throw WireError(.internalError, "zstd: \(what) failed: \(String(cString: ZSTD_getErrorName(code)))")
        }
    }
}

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

// The contexts are confined to one channel's event loop; they are never shared across threads.
@available(*, unavailable) extension ZstdCompressor: Sendable {}
@available(*, unavailable) extension ZstdDecompressor: Sendable {}
