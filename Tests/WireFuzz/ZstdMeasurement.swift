import Foundation
import Glibc
import NIOCore
import Wire

/// Measures the two compression designs on a connection's payloads, captured from a serving run
/// (``WireCapture`` files) or simulated (``ServingTraffic``): (a) each payload of at least a threshold
/// compressed on its own (a zstd frame, sent raw when that is not smaller), (b) one zstd stream per
/// connection, flushed after every frame. Prints a Markdown table for `Protocols/wire.md`.
enum ZstdMeasurement {
    /// One frame's payload, uncompressed; handshake and `error` frames are never compressed.
    struct Payload {
        var bytes: ByteBuffer
        var compressible = true
    }

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

    /// Compresses then decompresses every payload of one direction, each connection with its own
    /// contexts (as the protocol does); times are the best of `repeats`.
    static func measure(_ connections: [[Payload]], mode: Mode, repeats: Int = 3) throws -> Result {
        var best = Result()
        for round in 0..<repeats {
            var result = Result()
            for payloads in connections {
                let one = try measureConnection(payloads, mode: mode)
                result.frames += one.frames
                result.rawBytes += one.rawBytes
                result.wireBytes += one.wireBytes
                result.compressSeconds += one.compressSeconds
                result.decompressSeconds += one.decompressSeconds
            }
            if round == 0 || result.compressSeconds + result.decompressSeconds < best.compressSeconds + best.decompressSeconds {
                best = result
            }
        }
        return best
    }

    private static func measureConnection(_ payloads: [Payload], mode: Mode) throws -> Result {
        var result = Result()
        var encoded: [(ByteBuffer, Bool)] = []
        encoded.reserveCapacity(payloads.count)
        let compressor = try ZstdCompressor(level: level(mode))
        let decompressor = try ZstdDecompressor()
        var start = threadCPUTime()
        for payload in payloads {
            let bytes = payload.bytes
            var out = ByteBuffer()
            switch mode {
            case .perFrame(let threshold, _) where payload.compressible && bytes.readableBytes >= threshold:
                try compressor.compressFrame(bytes, into: &out)
                encoded.append(out.readableBytes < bytes.readableBytes ? (out, true) : (bytes, false))
            case .stream(let threshold, _) where payload.compressible && bytes.readableBytes >= threshold:
                out.writeVarintForMeasurement(bytes.readableBytes)
                try compressor.compressFlushed(bytes, into: &out)
                encoded.append((out, true))
            default:
                encoded.append((bytes, false))
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
            precondition(out == payloads[index].bytes, "payload \(index) does not survive \(mode)")
        }
        result.decompressSeconds = threadCPUTime() - start
        result.frames = payloads.count
        result.rawBytes = payloads.reduce(0) { $0 + $1.bytes.readableBytes + Frame.headerSize }
        result.wireBytes = encoded.reduce(0) { $0 + $1.0.readableBytes + Frame.headerSize }
        return result
    }

    static func level(_ mode: Mode) -> Int32 {
        switch mode {
        case .none: 1
        case .perFrame(_, let level), .stream(_, let level): level
        }
    }

    static let modes: [Mode] = [.none, .perFrame(threshold: 64, level: 1), .perFrame(threshold: 256, level: 1),
                                .perFrame(threshold: 1024, level: 1), .stream(threshold: 0, level: 1),
                                .stream(threshold: 64, level: 1), .stream(threshold: 64, level: 3)]

    /// The simulated traffic of ``ServingTraffic``.
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
        func payloads(_ messages: [WireMessage]) -> [[Payload]] {
            [messages.map { message in
                var buffer = ByteBuffer()
                message.encodePayload(into: &buffer)
                return Payload(bytes: buffer)
            }]
        }
        print(try table([("router → worker", payloads(traffic.toWorker)), ("worker → router", payloads(traffic.toRouter))]))
    }

    /// The frames of capture files (`SPECULA_WIRE_CAPTURE`), one connection per file, grouped by sender.
    static func replay(_ captures: [WireCapture]) throws -> String {
        var directions: [(String, [[Payload]])] = []
        for sender in [WireCapture.Sender.router, .worker] {
            let connections = captures.filter { $0.sender == sender }.map { capture in
                capture.records.map { Payload(bytes: $0.payload, compressible: !$0.type.isHandshake) }
            }
            if !connections.isEmpty { directions.append((sender == .router ? "router → worker" : "worker → router", connections)) }
        }
        return try table(directions)
    }

    static func table(_ directions: [(String, [[Payload]])]) throws -> String {
        var lines = ["| direction | mode | frames | bytes raw | bytes on wire | saved | compress µs/frame | decompress µs/frame |",
                     "|---|---|---:|---:|---:|---:|---:|---:|"]
        for (name, connections) in directions {
            for mode in modes {
                let r = try measure(connections, mode: mode)
                let saved = 100 * (1 - Double(r.wireBytes) / Double(max(1, r.rawBytes)))
                let frames = Double(max(1, r.frames))
                lines.append("| \(name) | \(mode) | \(r.frames) | \(r.rawBytes) | \(r.wireBytes) | \(String(format: "%.1f", saved))% | "
                    + "\(String(format: "%.2f", r.compressSeconds * 1e6 / frames)) | \(String(format: "%.2f", r.decompressSeconds * 1e6 / frames)) |")
            }
        }
        return lines.joined(separator: "\n")
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
