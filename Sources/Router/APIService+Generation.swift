import Foundation
import HTTPFrontend
import NIOCore
import Wire

// `POST /v1/completions` and `POST /v1/chat/completions`: submit, then stream (SSE) or collect.
extension APIService {
    func generate(_ body: [UInt8], route: APIRequest.Route, response: any HTTPResponseWriter) async throws {
        let request = try APIRequest.parse(body, route: route, settings: settings)
        let (id, events) = try await router.submit(request.job)
        let renderer = ResponseRenderer(
            route: route, id: (route == .completion ? "cmpl-" : "chatcmpl-") + Self.responseID(id),
            created: Int(Date().timeIntervalSince1970), model: request.job.model, includeUsage: request.includeUsage,
            logprobs: request.job.assignment.logprobs != nil)
        do {
            try await withTaskCancellationHandler {
                if request.stream {
                    try await stream(events, renderer: renderer, response: response)
                } else {
                    try await collect(events, renderer: renderer, response: response)
                }
            } onCancel: {
                router.cancel(id)
            }
        } catch {
            router.cancel(id)  // the client went away while we wrote; a no-op once the request ended
            throw error
        }
    }

    /// A plain response: the whole text once the request finished.
    private func collect(_ events: RequestMailbox, renderer: ResponseRenderer, response: any HTTPResponseWriter) async throws {
        var renderer = renderer
        var text = ""
        var logprobs: [TokenLogprobs] = []
        while let batch = await events.next() {
            for event in batch {
                switch event {
                case .tokens(let piece, _, let entries):
                    text += piece
                    logprobs += entries
                case .finished(let summary):
                    try await Self.respond(json: renderer.whole(text: text, logprobs: logprobs, summary: summary), response: response)
                    return
                case .failed(let error): throw error
                }
            }
        }
    }

    /// SSE: the status waits for the first event (so a request refused by its worker still gets its
    /// HTTP error), then the chunks of every event that arrived meanwhile in one write: text chunks,
    /// the finish chunk, the usage chunk, `[DONE]`.
    private func stream(_ events: RequestMailbox, renderer: ResponseRenderer, response: any HTTPResponseWriter) async throws {
        var renderer = renderer
        guard var batch = await events.next() else { return }
        if case .failed(let error) = batch.first { throw error }
        try await response.writeHead(HTTPResponseHead(status: 200, headers: [
            ("content-type", SSE.contentType), ("cache-control", "no-cache"),
        ]))
        var bytes = renderer.roleChunk().map(SSE.event) ?? []
        while true {
            var ended = false
            for event in batch {
                switch event {
                case .tokens(let text, _, let logprobs):
                    // A token without text (a special one) still gets its chunk when logprobs were asked for.
                    if !text.isEmpty || !logprobs.isEmpty { bytes += SSE.event(renderer.textChunk(text, logprobs: logprobs)) }
                case .finished(let summary):
                    bytes += SSE.event(renderer.finishChunk(summary))
                    if renderer.includeUsage { bytes += SSE.event(renderer.usageChunk(summary)) }
                    bytes += SSE.done
                    ended = true
                case .failed(let error):
                    bytes += SSE.event(ResponseRenderer.error(error)) + SSE.done
                    ended = true
                }
            }
            if !bytes.isEmpty {
                try await response.writeBody(ByteBuffer(bytes: bytes))
                events.wrote()
            }
            bytes.removeAll(keepingCapacity: true)
            if ended {
                try await response.end()
                return
            }
            guard let next = await events.next() else {
                try? await response.end()
                return
            }
            batch = next
        }
    }

    /// A unique-enough response id: random bits and the request number, as hex.
    static func responseID(_ requestID: UInt64) -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 16) + String(requestID, radix: 16)
    }
}
