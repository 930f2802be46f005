import NIOCore
import Wire

/// One router endpoint the worker serves: its connection state machine, the live channel (if any),
/// liveness clocks and the request ids assigned on it. Confined to the service's event loop (hence
/// unchecked: NIO's scheduling closures are `@Sendable`, but they all run on that loop).
final class RouterLink: @unchecked Sendable {
    let index: Int
    let address: RouterAddress
    var state: ConnectionState
    var channel: (any Channel)?
    /// Bumped per connection attempt, so callbacks of an old channel are recognised and ignored.
    var generation = 0
    var authenticated = false
    /// Router request id → the engine's id for it.
    var engineIDs: [UInt64: UInt64] = [:]
    var liveness = HeartbeatClock(now: .now())
    var livenessTimer: RepeatedTask?
    var reconnectTask: Scheduled<Void>?
    /// Why the connection is going down, for the disconnect log line.
    var closeReason: String?
    let metrics: LinkMetrics

    init(index: Int, address: RouterAddress, backoff: Backoff) {
        self.index = index
        self.address = address
        state = ConnectionState(backoff: backoff)
        metrics = LinkMetrics(router: address.description)
    }

    /// Writes without flushing; the caller flushes once per batch of frames.
    func write(_ message: WireMessage, promise: EventLoopPromise<Void>? = nil) {
        guard let channel else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        liveness.sent(at: .now())
        channel.write(message, promise: promise)
    }

    func send(_ message: WireMessage) {
        write(message)
        channel?.flush()
    }

    /// Sends a connection-level `error` (the protocol's way of saying why), then closes.
    func fail(_ error: WireError) {
        closeReason = error.description
        guard let channel else { return }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(WireMessage.error(ErrorMessage(error)), promise: promise)
        promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }

    func close(reason: String) {
        closeReason = closeReason ?? reason
        channel?.close(promise: nil)
    }

    /// A new connection attempt: forget everything of the previous channel.
    func beginAttempt() -> Int {
        generation += 1
        authenticated = false
        closeReason = nil
        channel = nil
        return generation
    }
}
