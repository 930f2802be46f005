public import NIOCore

/// What one client may ask of the front end. Every limit holds on both protocols unless its comment
/// says otherwise; what a client gets when it passes one is named there too.
public struct HTTPLimits: Sendable, Equatable {
    /// HTTP/2 `SETTINGS_MAX_CONCURRENT_STREAMS`: streams a client may have open on one connection at
    /// once; nghttp2 refuses more with `RST_STREAM(REFUSED_STREAM)`. Default 128. (HTTP/1.1 serves one
    /// request at a time per connection; pipelined requests wait, reading paused.)
    public var maxConcurrentStreams: Int
    /// The request's header section: HTTP/2 `SETTINGS_MAX_HEADER_LIST_SIZE`, counted as the RFC counts
    /// it (name + value + 32 per field, pseudo-headers included); HTTP/1.1 counts name + value bytes of
    /// all fields. Past it: 431 (HTTP/1.1 then closes the connection). Default 16 KiB.
    public var maxHeaderListBytes: Int
    /// A request body, summed over all its chunks. Past it (or when `content-length` announces more):
    /// 413 through ``HTTPService/errorResponse(status:message:)``; HTTP/1.1 then closes the
    /// connection, HTTP/2 resets just that stream. Default 4 MiB.
    public var maxBodyBytes: Int
    /// HTTP/2 `SETTINGS_INITIAL_WINDOW_SIZE`: how much request body a client may send on one stream
    /// before the front end acknowledges it. Default 1 MiB.
    public var initialStreamWindowBytes: Int
    /// HTTP/2 connection-level receive window (set by a `WINDOW_UPDATE` on stream 0 at start).
    /// Default 4 MiB.
    public var connectionWindowBytes: Int
    /// Rapid-reset protection (CVE-2023-44487): a token bucket of client `RST_STREAM` frames per
    /// connection, this many at once. Emptying it ends the connection with `GOAWAY(ENHANCE_YOUR_CALM)`.
    /// Default 200.
    public var resetBurst: Int
    /// Tokens the reset bucket regains per second. Default 100.
    public var resetsPerSecond: Int
    /// A connection with no bytes either way for this long is closed (HTTP/2 says `GOAWAY(NO_ERROR)`
    /// first) unless the service is working on one of its requests: requests being served never time
    /// out here, but a request whose head or body stalls does. Default 60 s.
    public var idleTimeout: TimeAmount

    /// The defaults, as documented on each property.
    public static let `default` = HTTPLimits()

    public init(maxConcurrentStreams: Int = 128, maxHeaderListBytes: Int = 16 * 1024,
                maxBodyBytes: Int = 4 * 1024 * 1024, initialStreamWindowBytes: Int = 1024 * 1024,
                connectionWindowBytes: Int = 4 * 1024 * 1024, resetBurst: Int = 200, resetsPerSecond: Int = 100,
                idleTimeout: TimeAmount = .seconds(60)) {
        self.maxConcurrentStreams = maxConcurrentStreams
        self.maxHeaderListBytes = maxHeaderListBytes
        self.maxBodyBytes = maxBodyBytes
        self.initialStreamWindowBytes = initialStreamWindowBytes
        self.connectionWindowBytes = connectionWindowBytes
        self.resetBurst = resetBurst
        self.resetsPerSecond = resetsPerSecond
        self.idleTimeout = idleTimeout
    }

    /// Checks the values against what the protocols allow.
    /// - Throws: ``HTTPFrontendError/invalidConfiguration(_:)`` naming the first bad value.
    public func validate() throws(HTTPFrontendError) {
        func check(_ ok: Bool, _ message: String) throws(HTTPFrontendError) {
            if !ok { throw .invalidConfiguration(message) }
        }
        let windowRange = 65_535...Int(Int32.max)
        try check(maxConcurrentStreams >= 1, "maxConcurrentStreams is \(maxConcurrentStreams); it must be at least 1")
        try check(maxHeaderListBytes >= 1024, "maxHeaderListBytes is \(maxHeaderListBytes); it must be at least 1024")
        try check(maxBodyBytes >= 0, "maxBodyBytes is \(maxBodyBytes); it must not be negative")
        try check(windowRange.contains(initialStreamWindowBytes),
                  "initialStreamWindowBytes is \(initialStreamWindowBytes); it must be in \(windowRange)")
        try check(windowRange.contains(connectionWindowBytes),
                  "connectionWindowBytes is \(connectionWindowBytes); it must be in \(windowRange)")
        try check(resetBurst >= 1 && resetsPerSecond >= 1,
                  "resetBurst \(resetBurst) and resetsPerSecond \(resetsPerSecond) must both be at least 1")
        try check(idleTimeout > .zero, "idleTimeout must be positive")
    }
}
