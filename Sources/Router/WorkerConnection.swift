import NIOCore
import Wire

/// One worker's connection, confined to the router service's event loop: the channel, who it is
/// once authenticated, and the liveness clocks the heartbeat timer reads.
final class WorkerConnection {
    let id: WorkerID
    let channel: any Channel
    let opened: NIODeadline
    /// The worker's name once it authenticated.
    var name: String?
    var registered = false
    var liveness: HeartbeatClock
    /// Why it is closing, for the log line when it is gone.
    var closeReason: String?

    init(id: WorkerID, channel: any Channel, now: NIODeadline) {
        self.id = id
        self.channel = channel
        opened = now
        liveness = HeartbeatClock(now: now)
    }

    var label: String { name ?? "(unauthenticated) \(channel.remoteAddress?.description ?? "?")" }

    func send(_ message: WireMessage) {
        liveness.sent(at: .now())
        channel.writeAndFlush(message, promise: nil)
    }

    /// Tells the worker why (a connection-level `error` frame), then closes.
    func fail(_ error: WireError) {
        closeReason = closeReason ?? error.description
        let channel = self.channel
        channel.writeAndFlush(WireMessage.error(ErrorMessage(error))).whenComplete { _ in channel.close(promise: nil) }
    }

    func close(reason: String) {
        closeReason = closeReason ?? reason
        channel.close(promise: nil)
    }
}
