/// Worker → router, once, right after the handshake: the model this worker serves and its limits.
public struct Register: Sendable, Equatable {
    /// The model id clients name in requests (`"pycode-6m"`).
    public var modelID: String
    /// Positions per sequence (prompt + output).
    public var contextLength: UInt32
    /// Most sequences the worker runs in one batch.
    public var maxBatchSequences: UInt32
    /// Tokens its KV cache holds over all sequences.
    public var kvCapacityTokens: UInt32
    /// Longest prompt it accepts, in tokens.
    public var maxPromptTokens: UInt32
    /// Most tokens it generates for one request.
    public var maxOutputTokens: UInt32
    /// Whether it drafts (SSSD); false: the router sends `speculation = off`.
    public var supportsSpeculation: Bool

    public init(modelID: String, contextLength: UInt32, maxBatchSequences: UInt32, kvCapacityTokens: UInt32,
                maxPromptTokens: UInt32, maxOutputTokens: UInt32, supportsSpeculation: Bool) {
        self.modelID = modelID
        self.contextLength = contextLength
        self.maxBatchSequences = maxBatchSequences
        self.kvCapacityTokens = kvCapacityTokens
        self.maxPromptTokens = maxPromptTokens
        self.maxOutputTokens = maxOutputTokens
        self.supportsSpeculation = supportsSpeculation
    }
}

/// Router → worker: the answer to ``Register``. A refusal is followed by the router closing.
public struct Registration: Sendable, Equatable {
    public var accepted: Bool
    /// Why the router refused (empty when accepted).
    public var reason: String

    public init(accepted: Bool, reason: String = "") {
        self.accepted = accepted
        self.reason = reason
    }
}

/// Worker → router: room for this many more assignments, added to what the router already holds.
public struct Credits: Sendable, Equatable {
    public var count: UInt32

    public init(count: UInt32) {
        self.count = count
    }
}

/// Either direction: liveness. A receiver answers every request heartbeat with a reply of the same
/// sequence number.
public struct Heartbeat: Sendable, Equatable {
    public var sequence: UInt64
    public var isReply: Bool

    public init(sequence: UInt64, isReply: Bool = false) {
        self.sequence = sequence
        self.isReply = isReply
    }
}

/// Worker → router: assign nothing new; requests in flight run to their end.
public struct Drain: Sendable, Equatable {
    /// Why, for the router's log (`"SIGTERM"`).
    public var reason: String

    public init(reason: String = "") {
        self.reason = reason
    }
}

/// Either direction: a failure. Without ``requestID`` it concerns the connection, and the sender
/// closes after it; with one, only that request failed.
public struct ErrorMessage: Sendable, Equatable {
    public var code: WireError.Code
    public var requestID: UInt64?
    public var message: String

    public init(code: WireError.Code, requestID: UInt64? = nil, message: String) {
        self.code = code
        self.requestID = requestID
        self.message = message
    }

    public init(_ error: WireError, requestID: UInt64? = nil) {
        self.init(code: error.code, requestID: requestID, message: error.message)
    }
}
