/// One benchmark request as the client saw it. Times are seconds since the benchmark started.
public struct RequestRecord: Sendable, Equatable {
    public let index: Int
    public let promptID: String
    public var sent: Double
    /// Arrival of every streamed chunk that carries a choice (one chunk may hold several tokens when
    /// the server coalesces accepted drafts).
    public var chunkTimes: [Double] = []
    public var finished: Double?
    /// From the final `usage` chunk (`stream_options.include_usage`).
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var text = ""
    public var finishReason: String?
    /// The server's speculation counts for the request (a Specula extension): `drafts`,
    /// `draft_tokens`, `accepted_tokens`, `steps`.
    public var speculation: [String: Int] = [:]
    public var error: String?

    public init(index: Int, promptID: String, sent: Double) {
        self.index = index
        self.promptID = promptID
        self.sent = sent
    }

    public var succeeded: Bool { error == nil && finished != nil }

    /// Time to first token: sending to the first chunk with a choice.
    public var ttft: Double? { chunkTimes.first.map { $0 - sent } }

    /// End-to-end latency: sending to the end of the stream.
    public var e2e: Double? { finished.map { $0 - sent } }

    /// Gaps between consecutive chunks.
    public var itls: [Double] { zip(chunkTimes.dropFirst(), chunkTimes).map { $0 - $1 } }

    /// Time per output token after the first: (E2E − TTFT) / (output tokens − 1), for requests of
    /// more than one token (vLLM's definition).
    public var tpot: Double? {
        guard let e2e, let ttft, let tokens = completionTokens, tokens > 1 else { return nil }
        return (e2e - ttft) / Double(tokens - 1)
    }
}
