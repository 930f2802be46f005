import Foundation
public import HTTPFrontend
public import Logging
public import NIOCore

/// The public API (`Protocols/http-api.md`): OpenAI-compatible generation, models, tokenization,
/// health, readiness and metrics, served by `HTTPFrontend` over HTTP/1.1 and HTTP/2 alike.
public final class APIService: HTTPService {
    let router: RouterService
    let apiKeys: APIKeys?
    let settings: APISettings
    let metrics: RouterMetrics
    let logger: Logger

    /// - Parameter apiKeys: nil: no authentication (the router's command warns when it listens
    ///   beyond loopback without keys).
    public init(router: RouterService, apiKeys: APIKeys?, settings: APISettings, metrics: RouterMetrics, logger: Logger) {
        self.router = router
        self.apiKeys = apiKeys
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
    }

    /// Routes: method, whether the route needs an API key, and the handler.
    private enum Route {
        case health, ready, metrics, models, model(String), completions, chat, tokenize, detokenize

        var method: String {
            switch self {
            case .health, .ready, .metrics, .models, .model: "GET"
            case .completions, .chat, .tokenize, .detokenize: "POST"
            }
        }

        var needsKey: Bool {
            switch self {
            case .health, .ready, .metrics: false
            default: true
            }
        }

        init?(path: Substring) {
            switch path {
            case "/health": self = .health
            case "/ready": self = .ready
            case "/metrics": self = .metrics
            case "/v1/models": self = .models
            case "/v1/completions": self = .completions
            case "/v1/chat/completions": self = .chat
            case "/tokenize": self = .tokenize
            case "/detokenize": self = .detokenize
            default:
                guard path.hasPrefix("/v1/models/"), path.count > "/v1/models/".count else { return nil }
                self = .model(String(path.dropFirst("/v1/models/".count)))
            }
        }
    }

    public func handle(_ request: HTTPServerRequest, response: any HTTPResponseWriter) async {
        do {
            try await serve(request, response: response)
        } catch let error as OpenAIError {
            if error.status >= 500 { logger.warning("request failed", metadata: ["path": "\(request.path)", "error": "\(error)"]) }
            try? await Self.respond(error, response: response)
        } catch {
            // The client went away (HTTPFrontendError.clientGone): nothing left to tell it.
        }
    }

    private func serve(_ request: HTTPServerRequest, response: any HTTPResponseWriter) async throws {
        guard let route = Route(path: request.path) else {
            throw OpenAIError.routeNotFound(method: request.method, path: String(request.path))
        }
        guard request.method == route.method else {
            throw OpenAIError.methodNotAllowed(method: request.method, path: String(request.path), allowed: route.method)
        }
        if route.needsKey, let apiKeys { try apiKeys.authorize(request.header("authorization")) }
        let body = Array(request.body.readableBytesView)
        switch route {
        case .health: try await Self.respond(json: Array(#"{"status":"ok"}"#.utf8), response: response)
        case .ready: try await ready(response)
        case .metrics:
            try await response.respond(status: 200, headers: [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                                       body: ByteBuffer(bytes: metrics.render()))
        case .models: try await models(only: nil, response)
        case .model(let id): try await models(only: id, response)
        case .completions: try await generate(body, route: .completion, response: response)
        case .chat: try await generate(body, route: .chat, response: response)
        case .tokenize: try await tokenize(body, response)
        case .detokenize: try await detokenize(body, response)
        }
    }

    public func errorResponse(status: Int, message: String) -> (contentType: String, body: ByteBuffer) {
        let error = switch status {
        case 413: OpenAIError.tooLarge(message)
        case 503: OpenAIError.unavailable(message, code: "shutting_down")
        case 431: OpenAIError(status: 431, type: "invalid_request_error", code: "headers_too_large", message: message)
        default: OpenAIError(status: status, type: status >= 500 ? "server_error" : "invalid_request_error", message: message)
        }
        return ("application/json", ByteBuffer(bytes: ResponseRenderer.error(error)))
    }

    // MARK: - Small routes

    private func ready(_ response: any HTTPResponseWriter) async throws {
        let (ready, models) = try await router.readiness()
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("status", ready ? "ready" : "not_ready")
        writer.key("models")
        writer.beginObject()
        for (model, workers) in models.sorted(by: { $0.key < $1.key }) { writer.field(model, workers) }
        writer.endObject()
        writer.endObject()
        try await Self.respond(json: writer.bytes, status: ready ? 200 : 503, response: response)
    }

    private func models(only id: String?, _ response: any HTTPResponseWriter) async throws {
        let models = try await router.models()
        let created = Int(Date().timeIntervalSince1970) - Int((NIODeadline.now().uptimeNanoseconds - router.started) / 1_000_000_000)
        func write(_ name: String, _ limits: ModelLimits, into writer: inout JSONWriter) {
            writer.beginObject()
            writer.field("id", name)
            writer.field("object", "model")
            writer.field("created", created)
            writer.field("owned_by", "specula")
            writer.field("root", name)
            writer.nullField("parent")
            writer.field("max_model_len", limits.contextLength)
            writer.endObject()
        }
        var writer = JSONWriter()
        if let id {
            guard let limits = models[id] else { throw OpenAIError.modelNotFound(id, served: Array(models.keys)) }
            write(id, limits, into: &writer)
        } else {
            writer.beginObject()
            writer.field("object", "list")
            writer.key("data")
            writer.beginArray()
            for (name, limits) in models.sorted(by: { $0.key < $1.key }) { write(name, limits, into: &writer) }
            writer.endArray()
            writer.endObject()
        }
        try await Self.respond(json: writer.bytes, response: response)
    }

    static func respond(json: [UInt8], status: Int = 200, response: any HTTPResponseWriter) async throws {
        try await response.respond(status: status, headers: [("content-type", "application/json")], body: ByteBuffer(bytes: json))
    }

    static func respond(_ error: OpenAIError, response: any HTTPResponseWriter) async throws {
        try await respond(json: ResponseRenderer.error(error), status: error.status, response: response)
    }
}
