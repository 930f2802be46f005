import Foundation
import HTTPFrontend
import NIOCore
import Synchronization

/// An `HTTPResponseWriter` that keeps what a service wrote, for calling `handle` without sockets.
final class RecordingWriter: HTTPResponseWriter {
    private struct Record {
        var head: HTTPResponseHead?
        var chunks: [[UInt8]] = []
        var ended = false
    }

    private let record = Mutex(Record())
    /// Fail writes after this many body chunks, as a client that went away would.
    private let failAfterChunks: Int?

    init(failAfterChunks: Int? = nil) {
        self.failAfterChunks = failAfterChunks
    }

    func writeHead(_ head: HTTPResponseHead) async throws {
        try record.withLock { record in
            guard record.head == nil else { throw HTTPFrontendError.invalidState("head written twice") }
            record.head = head
        }
    }

    func writeBody(_ chunk: ByteBuffer) async throws {
        try record.withLock { record in
            guard record.head != nil, !record.ended else { throw HTTPFrontendError.invalidState("body outside head and end") }
            if let failAfterChunks, record.chunks.count >= failAfterChunks { throw HTTPFrontendError.clientGone }
            record.chunks.append(Array(chunk.readableBytesView))
        }
    }

    func end() async throws {
        try record.withLock { record in
            guard record.head != nil, !record.ended else { throw HTTPFrontendError.invalidState("end twice or without head") }
            record.ended = true
        }
    }

    var status: Int? { record.withLock { $0.head?.status } }
    var ended: Bool { record.withLock { $0.ended } }
    var chunks: [[UInt8]] { record.withLock { $0.chunks } }
    var body: String { String(decoding: chunks.joined(), as: UTF8.self) }

    func header(_ name: String) -> String? { record.withLock { $0.head?.headers.first { $0.name == name }?.value } }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(chunks.joined()))) as? [String: Any] ?? [:]
    }

    var error: [String: Any]? { json["error"] as? [String: Any] }

    /// The SSE events' data fields, in order (`[DONE]` included).
    var events: [String] {
        body.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            event.hasPrefix("data: ") ? String(event.dropFirst(6)) : "MALFORMED: \(event)"
        }
    }

    /// The concatenated text of a streamed completion or chat response.
    var streamedText: String {
        events.dropLast().compactMap { data -> String? in
            guard let chunk = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any],
                  let choice = (chunk["choices"] as? [[String: Any]])?.first else { return nil }
            return (choice["text"] as? String) ?? ((choice["delta"] as? [String: Any])?["content"] as? String)
        }.joined()
    }
}
