public import NIOCore
public import Wire

/// How the router treats workers and requests; the command line fills it.
public struct RouterConfiguration: Sendable {
    /// The shared worker token's proof machinery.
    public var proof: HandshakeProof
    /// Most requests waiting per model; more get 429.
    public var maxQueue: Int
    /// A request's deadline when it does not give `timeout`, queue time included.
    public var requestTimeout: TimeAmount
    /// Longest `timeout` a request may ask for.
    public var maxRequestTimeout: TimeAmount
    /// Send a heartbeat to a worker after this long without sending.
    public var heartbeatInterval: TimeAmount
    /// Drop a worker after this long without receiving (its requests fail over).
    public var heartbeatTimeout: TimeAmount
    /// Close a connection that has not authenticated after this long.
    public var handshakeTimeout: TimeAmount
    /// A request may lose its worker this many times; then it fails with 503.
    public var maxAttempts: Int
    /// Diagnostic (`SPECULA_WIRE_CAPTURE`): record the frames sent on each worker connection. Nil: off.
    public var capture: WireCaptureDestination?
    /// Diagnostic (`SPECULA_WIRE_TIMING=1`): times token events from the worker's frame to the SSE
    /// write. Nil: off, no cost.
    public var wireTiming: RouterWireTiming?

    public init(proof: HandshakeProof, maxQueue: Int = 1024, requestTimeout: TimeAmount = .seconds(600),
                maxRequestTimeout: TimeAmount = .seconds(3600), heartbeatInterval: TimeAmount = .seconds(5),
                heartbeatTimeout: TimeAmount = .seconds(15), handshakeTimeout: TimeAmount = .seconds(10), maxAttempts: Int = 3,
                capture: WireCaptureDestination? = nil, wireTiming: RouterWireTiming? = nil) {
        self.proof = proof
        self.maxQueue = maxQueue
        self.requestTimeout = requestTimeout
        self.maxRequestTimeout = maxRequestTimeout
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatTimeout = heartbeatTimeout
        self.handshakeTimeout = handshakeTimeout
        self.maxAttempts = maxAttempts
        self.capture = capture
        self.wireTiming = wireTiming
    }
}
