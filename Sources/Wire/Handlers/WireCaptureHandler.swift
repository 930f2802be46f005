public import NIOCore

/// Records every message the connection sends, uncompressed, into a capture file: a diagnostic
/// (`Protocols/wire.md`, "Diagnostics: frame capture"), put in the pipeline only when capture is on,
/// between ``FrameEncoder`` and ``WireSessionHandler``.
///
/// A record is appended when the frame's write completes, so it carries both the time the frame
/// was handed down and the time its bytes reached the socket. If the file cannot be written, capture
/// of this connection stops, `onError` hears why once, and the connection carries on.
public final class WireCaptureHandler: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = WireMessage
    public typealias OutboundOut = WireMessage

    private let writer: WireCaptureWriter
    private let onError: (WireCaptureError) -> Void
    private var stopped = false

    public init(writer: WireCaptureWriter, onError: @escaping (WireCaptureError) -> Void) {
        self.writer = writer
        self.onError = onError
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !stopped else {
            context.write(data, promise: promise)
            return
        }
        let message = unwrapOutboundIn(data)
        var payload = context.channel.allocator.buffer(capacity: 64)
        message.encodePayload(into: &payload)
        let recorded = payload
        let type = message.type
        let queued = writer.offset(of: .now())
        let completion = promise ?? context.eventLoop.makePromise()
        context.write(data, promise: completion)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        completion.futureResult.whenComplete { result in
            let handler = handler.value
            let written: UInt64? = if case .success = result { handler.writer.offset(of: .now()) } else { nil }
            handler.append(WireCapture.Record(type: type, payload: recorded, queuedNanoseconds: queued, writtenNanoseconds: written))
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        guard !stopped else { return }
        stopped = true
        do throws(WireCaptureError) { try writer.close() } catch { onError(error) }
    }

    private func append(_ record: WireCapture.Record) {
        guard !stopped else { return }
        do throws(WireCaptureError) {
            try writer.append(record)
        } catch {
            stopped = true
            onError(error)
        }
    }
}

@available(*, unavailable) extension WireCaptureHandler: Sendable {}

extension WireCaptureDestination {
    /// The capture handler of a new connection; nil when its file cannot be created (`onError` hears
    /// why, and the connection goes on uncaptured).
    public func makeHandler(sender: WireCapture.Sender, onError: @escaping (WireCaptureError) -> Void) -> WireCaptureHandler? {
        do throws(WireCaptureError) {
            return WireCaptureHandler(writer: try open(sender: sender), onError: onError)
        } catch {
            onError(error)
            return nil
        }
    }
}
