import Foundation
import Glibc
import NIOCore
import Wire

/// Measures the two compression designs on ``ServingTraffic``: (a) each payload of at least a threshold
/// compressed on its own (a zstd frame, sent raw when that is not smaller), (b) one zstd stream per
/// connection, flushed after every frame. Prints a Markdown table for `Protocols/wire.md`.
enum ZstdMeasurement {
    enum Mode: CustomStringConvertible {
        case none
        case perFrame(threshold: Int, level: Int32)
        case stream(threshold: Int, level: Int32)

        var description: String {
            switch self {
            case .none: "none"
            case .perFrame(let threshold, let level): "(a) per frame >= \(threshold) B, level \(level)"
            case .stream(let threshold, let level): "(b) stream, flush per frame >= \(threshold) B, level \(level)"
            }
        }
    }

    struct Result {
        var frames = 0
        var rawBytes = 0
        var wireBytes = 0
        var compressSeconds = 0.0
        var decompressSeconds = 0.0
    }

    static func threadCPUTime() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// Compresses then decompresses every payload of one direction; times are the best of `repeats`.
    static func measure(_ payloads: [ByteBuffer], mode: Mode, repeats: Int = 3) throws -> Result {
        var best = Result()
        for round in 0..<repeats {
            var result = Result()
            var encoded: [(ByteBuffer, Bool)] = []
            encoded.reserveCapacity(payloads.count)
            let compressor = try ZstdCompressor(level: level(mode))
            let decompressor = try ZstdDecompressor()
            var start = threadCPUTime()
            for payload in payloads {
                var out = ByteBuffer()
                switch mode {
                case .none: encoded.append((payload, false))
                case .perFrame(let threshold, _):
                    if payload.readableBytes >= threshold {
                        try compressor.compressFrame(payload, into: &out)
                        encoded.append(out.readableBytes < payload.readableBytes ? (out, true) : (payload, false))
                    } else { encoded.append((payload, false)) }
                case .stream(let threshold, _):
                    if payload.readableBytes >= threshold {
                        out.writeVarintForMeasurement(payload.readableBytes)
                        try compressor.compressFlushed(payload, into: &out)
                        encoded.append((out, true))
                    } else { encoded.append((payload, false)) }
                }
            }
            result.compressSeconds = threadCPUTime() - start
            start = threadCPUTime()
            for (index, (bytes, compressed)) in encoded.enumerated() where compressed {
                var out = ByteBuffer()
                var input = bytes
                switch mode {
                case .perFrame: try decompressor.decompressFrame(input, limit: 1 << 22, into: &out)
                default:
                    let size = input.readVarintForMeasurement()
                    try decompressor.decompressFlushed(input, size: size, into: &out)
                }
                precondition(out == payloads[index], "payload \(index) does not survive \(mode)")
            }
            result.decompressSeconds = threadCPUTime() - start
            result.frames = payloads.count
            result.rawBytes = payloads.reduce(0) { $0 + $1.readableBytes + Frame.headerSize }
            result.wireBytes = encoded.reduce(0) { $0 + $1.0.readableBytes + Frame.headerSize }
            if round == 0 || result.compressSeconds + result.decompressSeconds < best.compressSeconds + best.decompressSeconds {
                best = result
            }
        }
        return best
    }

    static func level(_ mode: Mode) -> Int32 {
        switch mode {
        case .none: 1
        case .perFrame(_, let level), .stream(_, let level): level
        }
    }

    static func run(benchFolder: URL, corpus: URL, requests: Int) throws {
        var prompts: [String] = []
        for file in ["code-short.jsonl", "code-long.jsonl"] {
            let text = try String(contentsOf: benchFolder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                if let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                   let prompt = object["prompt"] as? String { prompts.append(prompt) }
            }
        }
        let output = try String(contentsOf: corpus, encoding: .utf8)
        let traffic = ServingTraffic(prompts: prompts, outputText: output, requests: requests)
        let modes: [Mode] = [.none, .perFrame(threshold: 64, level: 1), .perFrame(threshold: 256, level: 1),
                             .perFrame(threshold: 1024, level: 1), .stream(threshold: 0, level: 1),
                             .stream(threshold: 64, level: 1), .stream(threshold: 64, level: 3)]
        print("| direction | mode | frames | bytes raw | bytes on wire | saved | compress µs/frame | decompress µs/frame |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for (name, messages) in [("router → worker", traffic.toWorker), ("worker → router", traffic.toRouter)] {
            let payloads = messages.map { message in
                var buffer = ByteBuffer()
                message.encodePayload(into: &buffer)
                return buffer
            }
            for mode in modes {
                let r = try measure(payloads, mode: mode)
                let saved = 100 * (1 - Double(r.wireBytes) / Double(r.rawBytes))
                print("| \(name) | \(mode) | \(r.frames) | \(r.rawBytes) | \(r.wireBytes) | \(String(format: "%.1f", saved))% | \(String(format: "%.2f", r.compressSeconds * 1e6 / Double(r.frames))) | \(String(format: "%.2f", r.decompressSeconds * 1e6 / Double(r.frames))) |")
            }
        }
    }
}

extension ByteBuffer {
    mutating func writeVarintForMeasurement(_ value: Int) {
        var value = UInt32(value)
        while value >= 0x80 { writeInteger(UInt8(truncatingIfNeeded: value) | 0x80); value >>= 7 }
        writeInteger(UInt8(value))
    }

    mutating func readVarintForMeasurement() -> Int {
        var value = 0
        var shift = 0
        while let byte = readInteger(as: UInt8.self) {
            value |= Int(byte & 0x7F) << shift
            shift += 7
            if byte & 0x80 == 0 { break }
        }
        return value
    }
}
