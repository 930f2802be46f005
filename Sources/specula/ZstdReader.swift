import CZstd
import Foundation

/// Reads a whole file, decompressing it with zstd when it is compressed (by magic number, not by name).
enum ZstdReader {
    static let magic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read '\(path)': no such file or not readable")
        }
        let bytes = [UInt8](data)
        return bytes.starts(with: magic) ? try decompress(bytes, name: path) : bytes
    }

    /// Streaming decompression: the frame need not record its content size, and several frames may follow one another.
    static func decompress(_ input: [UInt8], name: String) throws -> [UInt8] {
        guard let stream = ZSTD_createDStream() else { throw CLIError("zstd: cannot create a decompression stream") }
        defer { ZSTD_freeDStream(stream) }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 6)
        let chunk = ZSTD_DStreamOutSize()
        var buffer = [UInt8](repeating: 0, count: chunk)
        try input.withUnsafeBytes { source in
            var inBuffer = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
            while true {
                var result = 0
                let produced = try buffer.withUnsafeMutableBytes { target -> Int in
                    var outBuffer = ZSTD_outBuffer(dst: target.baseAddress, size: target.count, pos: 0)
                    result = ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
                    if ZSTD_isError(result) != 0 {
                        throw CLIError("\(name): corrupt zstd data (\(String(cString: ZSTD_getErrorName(result))))")
                    }
                    return outBuffer.pos
                }
                output.append(contentsOf: buffer[0..<produced])
                // Done when every input byte is used and the decoder holds nothing back (output not full).
                guard inBuffer.pos == inBuffer.size, produced < chunk else { continue }
                // 0: the last frame is complete; anything else: the input stopped inside a frame.
                if result != 0 { throw CLIError("\(name): truncated zstd data (the last frame is incomplete)") }
                break
            }
        }
        return output
    }
}
