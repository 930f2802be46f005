public import NIOCore
public import Wire

/// A generation request as the API hands it to the router: the model, the assignment to send (its
/// request id, produced tokens and timeout are the router's to fill) and how long it may take.
public struct GenerationJob: Sendable, Equatable {
    public var model: String
    public var assignment: Assignment
    /// nil: as many as the model allows (`max_output_tokens` of its workers).
    public var maxTokens: UInt32?
    /// From arrival to the last token; the queue time counts.
    public var timeout: TimeAmount

    public init(model: String, assignment: Assignment, maxTokens: UInt32?, timeout: TimeAmount) {
        self.model = model
        self.assignment = assignment
        self.maxTokens = maxTokens
        self.timeout = timeout
    }
}

/// A request the router holds, queued or running: everything needed to (re)assign it to any worker.
struct RouterRequest: Sendable, Equatable {
    let id: UInt64
    let model: String
    /// `requestID` is ``id``; `producedTokenIDs` grows as tokens reach the client, so a re-queued
    /// request resumes after them.
    var assignment: Assignment
    let arrival: NIODeadline
    let deadline: NIODeadline
    /// Workers it was assigned to so far.
    var attempts = 0

    /// Milliseconds left at `now`, at least 1 (0 would mean "no deadline" on the wire).
    func remainingMilliseconds(at now: NIODeadline) -> UInt32 {
        let left = (deadline - now).nanoseconds / 1_000_000
        return UInt32(clamping: max(1, left))
    }
}
