/// An API error: an HTTP status and the OpenAI error object `{"error": {"message", "type", "param",
/// "code"}}` (`Protocols/http-api.md`, "Errors"). Every failure a client can see is one of these.
public struct OpenAIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    /// `invalid_request_error`, `authentication_error`, `not_found_error`, ...
    public var type: String
    /// The request field at fault, when one is.
    public var param: String?
    /// A stable machine-readable code (`model_not_found`, `queue_full`, ...), when there is one.
    public var code: String?
    /// One line: what failed, the value, what was expected.
    public var message: String

    public init(status: Int, type: String, param: String? = nil, code: String? = nil, message: String) {
        self.status = status
        self.type = type
        self.param = param
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(type)\(code.map { " (\($0))" } ?? ""): \(message)" }

    /// 400: a field is missing, of the wrong type or out of range.
    public static func invalid(_ param: String?, _ message: String, code: String? = nil) -> OpenAIError {
        OpenAIError(status: 400, type: "invalid_request_error", param: param, code: code, message: message)
    }

    /// 400: a feature the API names but Specula does not offer yet.
    public static func unsupported(_ param: String, _ message: String) -> OpenAIError {
        OpenAIError(status: 400, type: "invalid_request_error", param: param, code: "unsupported_parameter", message: message)
    }

    /// 401: no API key, or not one of the configured keys.
    public static func unauthorized(_ message: String) -> OpenAIError {
        OpenAIError(status: 401, type: "authentication_error", code: "invalid_api_key", message: message)
    }

    /// 404: no such route.
    public static func routeNotFound(method: String, path: String) -> OpenAIError {
        OpenAIError(status: 404, type: "not_found_error", code: "route_not_found",
                    message: "\(method) \(path) is not a route of this API; see Protocols/http-api.md (e.g. POST /v1/completions)")
    }

    /// 404: no worker ever registered this model.
    public static func modelNotFound(_ model: String, served: [String]) -> OpenAIError {
        let list = served.isEmpty ? "none is served right now" : "served: \(served.sorted().joined(separator: ", "))"
        return OpenAIError(status: 404, type: "not_found_error", param: "model", code: "model_not_found",
                           message: "the model '\(model)' does not exist (\(list))")
    }

    /// 405: a known route with another method.
    public static func methodNotAllowed(method: String, path: String, allowed: String) -> OpenAIError {
        OpenAIError(status: 405, type: "invalid_request_error", code: "method_not_allowed",
                    message: "\(method) is not allowed on \(path); use \(allowed)")
    }

    /// 408: the request's deadline passed before it produced anything.
    public static func timedOut(seconds: Double) -> OpenAIError {
        OpenAIError(status: 408, type: "timeout_error", code: "request_timeout",
                    message: "the request did not complete within its timeout of \(formatNumber(seconds)) s (queue time included); raise \"timeout\" or try later")
    }

    /// 413: the body (or the prompt it carries) is larger than the router accepts.
    public static func tooLarge(_ message: String) -> OpenAIError {
        OpenAIError(status: 413, type: "invalid_request_error", code: "request_too_large", message: message)
    }

    /// 429: the model's queue is full.
    public static func queueFull(model: String, capacity: Int) -> OpenAIError {
        OpenAIError(status: 429, type: "rate_limit_error", code: "queue_full",
                    message: "the queue of model '\(model)' is full (\(capacity) requests waiting); retry later")
    }

    /// 503: the model is known but no worker serves it now, or the router is shutting down.
    public static func unavailable(_ message: String, code: String) -> OpenAIError {
        OpenAIError(status: 503, type: "service_unavailable_error", code: code, message: message)
    }

    /// 500: a worker failed the request after it had started.
    public static func internalError(_ message: String) -> OpenAIError {
        OpenAIError(status: 500, type: "server_error", code: "internal_error", message: message)
    }
}
