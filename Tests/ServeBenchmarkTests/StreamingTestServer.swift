import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A minimal OpenAI-style server for the benchmark client's tests: `GET /v1/models` and streaming
/// `POST /v1/completions` over HTTP/1.1 keep-alive, one SSE chunk per token every `tokenDelay`, then
/// the choice's closing chunk, the `usage` chunk and `data: [DONE]`, the way the router streams.
/// Prompts steer misbehaviour: `fail` → 500 with an OpenAI error body, `error-event` → an error event
/// mid-stream, `hang-up` → the connection closes mid-stream, `pairs` → two tokens per chunk.
final class StreamingTestServer: Sendable {
    struct Statistics {
        var inFlight = 0
        var maxInFlight = 0
        var connections = 0
        var completions = 0
        /// Request bodies of the completions, as sent.
        var bodies: [Data] = []
        var authorizations: [String] = []
    }

    let port: Int
    private let recorder: Recorder
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    private init(port: Int, recorder: Recorder, group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.port = port
        self.recorder = recorder
        self.group = group
        self.channel = channel
    }

    /// What the server saw so far.
    func statistics<T: Sendable>(_ read: (Statistics) -> T) -> T {
        recorder.statistics.withLock { read($0) }
    }

    static func start(model: String = "test-model", tokenDelay: TimeAmount = .milliseconds(2),
                      requiredKey: String? = nil) async throws -> StreamingTestServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let recorder = Recorder()
        let settings = CompletionResponder.Settings(model: model, tokenDelay: tokenDelay, requiredKey: requiredKey)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                recorder.statistics.withLock { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(CompletionResponder(settings: settings, recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return StreamingTestServer(port: channel.localAddress!.port!, recorder: recorder, group: group, channel: channel)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// The statistics, shared by the server and its connections' handlers.
final class Recorder: Sendable {
    let statistics = Mutex(StreamingTestServer.Statistics())
}

/// Answers one request at a time on its connection.
final class CompletionResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    struct Settings: Sendable {
        let model: String
        let tokenDelay: TimeAmount
        let requiredKey: String?
    }

    private let settings: Settings
    private let recorder: Recorder
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(settings: Settings, recorder: Recorder) {
        self.settings = settings
        self.recorder = recorder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            respond(context: context, head: head)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let authorization = head.headers.first(name: "authorization") ?? ""
        recorder.statistics.withLock { $0.authorizations.append(authorization) }
        if let key = settings.requiredKey, authorization != "Bearer \(key)" {
            return whole(context, status: .unauthorized, json: ["error": ["message": "missing or wrong API key", "type": "authentication_error"]])
        }
        switch (head.method, head.uri) {
        case (.GET, "/v1/models"):
            whole(context, status: .ok, json: ["object": "list", "data": [["id": settings.model, "object": "model"]]])
        case (.POST, "/v1/completions"):
            guard let request = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] else {
                return whole(context, status: .badRequest, json: ["error": ["message": "body is not JSON"]])
            }
            let raw = Data(body.readableBytesView)
            recorder.statistics.withLock { $0.bodies.append(raw) }
            guard request["model"] as? String == settings.model else {
                return whole(context, status: .notFound, json: ["error": ["message": "unknown model"]])
            }
            if request["prompt"] as? String == "fail" {
                return whole(context, status: .internalServerError, json: ["error": ["message": "boom", "type": "server_error"]])
            }
            stream(context, request: request)
        default:
            whole(context, status: .notFound, json: ["error": ["message": "no route"]])
        }
    }

    private func whole(_ context: ChannelHandlerContext, status: HTTPResponseStatus, json: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: json)
        var headers = HTTPHeaders([("content-type", "application/json"), ("content-length", "\(data.count)")])
        headers.add(name: "connection", value: "keep-alive")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: data)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// `max_tokens` tokens, one chunk every `tokenDelay` (two tokens per chunk for "pairs").
    private func stream(_ context: ChannelHandlerContext, request: [String: Any]) {
        let prompt = request["prompt"] as? String ?? ""
        let tokens = request["max_tokens"] as? Int ?? 16
        let perChunk = prompt == "pairs" ? 2 : 1
        recorder.statistics.withLock {
            $0.inFlight += 1
            $0.maxInFlight = max($0.maxInFlight, $0.inFlight)
            $0.completions += 1
        }
        let headers = HTTPHeaders([("content-type", "text/event-stream"), ("cache-control", "no-cache")])
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        let loop = context.eventLoop.assumeIsolated()
        var sent = 0
        func next() {
            guard context.channel.isActive else { return done() }
            if sent >= tokens {
                // As the router does: a chunk that closes the choice, then the usage chunk, both with
                // the speculation extension.
                let speculation: [String: Any] = ["drafts": 1, "draft_tokens": tokens / 2, "accepted_tokens": tokens / 4,
                                                  "steps": tokens, "mean_accepted_length": 1.0]
                event(context, ["object": "text_completion", "model": settings.model, "speculation": speculation,
                                "choices": [["index": 0, "text": "", "finish_reason": "length"]]])
                event(context, ["choices": [], "usage": ["prompt_tokens": prompt.utf8.count, "completion_tokens": tokens],
                                "speculation": speculation])
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "data: [DONE]\n\n")))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return done()
            }
            if prompt == "hang-up" && sent == 2 {
                context.close(promise: nil)
                return done()
            }
            if prompt == "error-event" && sent == 2 {
                event(context, ["error": ["message": "the worker went away", "type": "server_error"]])
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return done()
            }
            let count = min(perChunk, tokens - sent)
            sent += count
            event(context, ["object": "text_completion", "model": settings.model,
                            "choices": [["index": 0, "text": String(repeating: "t ", count: count), "finish_reason": NSNull()]]])
            loop.scheduleTask(in: settings.tokenDelay) { next() }
        }
        next()
    }

    private func event(_ context: ChannelHandlerContext, _ object: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: object)
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    private func done() {
        recorder.statistics.withLock { $0.inFlight -= 1 }
    }
}

@available(*, unavailable) extension CompletionResponder: Sendable {}
