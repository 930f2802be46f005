import Foundation
import Wire

/// What a set of capture files holds besides the compression table: frames per type, tokens per
/// `tokens` frame, and how long frames took from being handed to the encoder to reaching the socket.
enum CaptureSummary {
    static func describe(_ captures: [WireCapture]) throws -> String {
        var lines: [String] = []
        for sender in [WireCapture.Sender.router, .worker] {
            let records = captures.filter { $0.sender == sender }.flatMap(\.records)
            guard !records.isEmpty else { continue }
            var types: [String: Int] = [:]
            var tokens = 0
            var tokenFrames = 0
            for record in records {
                types["\(record.type)", default: 0] += 1
                if case .tokens(let event) = try WireMessage(type: record.type, payload: record.payload) {
                    tokens += event.tokenIDs.count
                    tokenFrames += 1
                }
            }
            let connections = captures.filter { $0.sender == sender }.count
            let counts = types.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("\(sender) sent \(records.count) frames on \(connections) connection(s): \(counts)")
            if tokenFrames > 0 {
                lines.append("  tokens per tokens frame: \(String(format: "%.2f", Double(tokens) / Double(tokenFrames))) (\(tokens) tokens)")
            }
            let delays = records.compactMap { record in record.writtenNanoseconds.map { Double($0 &- record.queuedNanoseconds) / 1000 } }.sorted()
            if !delays.isEmpty {
                func at(_ q: Double) -> String { String(format: "%.1f", delays[min(delays.count - 1, Int(q * Double(delays.count)))]) }
                let mean = delays.reduce(0, +) / Double(delays.count)
                lines.append("  handed to the encoder → on the socket, µs: mean \(String(format: "%.1f", mean)), p50 \(at(0.5)), "
                    + "p90 \(at(0.9)), p99 \(at(0.99)), max \(String(format: "%.1f", delays.last!)); \(records.count - delays.count) writes failed")
            }
        }
        return lines.joined(separator: "\n")
    }
}
