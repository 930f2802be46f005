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

// Confined to one channel's event loop; never shared across threads.
@available(*, unavailable) extension ZstdCompressor: Sendable {}
