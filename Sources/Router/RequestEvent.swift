public import Wire

/// What the router tells the API about one request, in order: any number of ``tokens(text:count:logprobs:)``,
/// then exactly one ``finished(_:)`` or ``failed(_:)``.
public enum RequestEvent: Sendable, Equatable {
    /// New output: `text` completed by `count` new tokens (ids leave the worker only with their text,
    /// so text is empty only for tokens without any, e.g. special ones), with their `logprobs` when
    /// the request asked for them (else empty).
    case tokens(text: String, count: Int, logprobs: [TokenLogprobs] = [])
    case finished(RequestSummary)
    /// The request ends with an error (before any token: the HTTP status; after: an error event).
    case failed(OpenAIError)
}

/// How a request ended, for `finish_reason`, `usage` and the speculation extension.
public struct RequestSummary: Sendable, Equatable {
    public enum Reason: String, Sendable, Equatable {
        /// End of sequence or a stop string.
        case stop
        /// `max_tokens`, or the context is full.
        case length
        /// The request's deadline passed while it ran (`Protocols/http-api.md`, "Timeouts").
        case timeout
    }

    public var reason: Reason
    public var promptTokens: Int
    /// Tokens generated, tokens of an earlier worker (failover) included.
    public var completionTokens: Int
    /// The counts of the worker that finished it.
    public var speculation: SpeculationCounts

    public init(reason: Reason, promptTokens: Int, completionTokens: Int, speculation: SpeculationCounts = SpeculationCounts()) {
        self.reason = reason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.speculation = speculation
    }
}

/// What the router state asks its owner to do.
enum RouterAction: Sendable, Equatable {
    /// Write this frame to the worker.
    case send(WorkerID, WireMessage)
    /// Send this `error` frame to the worker and close its connection.
    case close(WorkerID, WireError)
    /// Hand this event to the request's API handler.
    case deliver(UInt64, RequestEvent)
}
