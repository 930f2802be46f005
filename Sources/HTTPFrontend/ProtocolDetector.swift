import NIOCore
import NIOTLS

/// The first handler after TLS (or the socket): picks the connection's protocol, sets up its
/// handlers and removes itself. Over TLS, ALPN decides (`h2` or `http/1.1`); without TLS, or when the
/// client offered no ALPN, the first bytes do: the HTTP/2 connection preface means HTTP/2 with prior
/// knowledge, anything else HTTP/1.1.
final class ProtocolDetector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum Decision: Equatable {
        case http1
        case http2
        /// The bytes so far are a prefix of the preface.
        case needMoreBytes
    }

    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// Which protocol `bytes`, the start of a connection, speak.
    static func decide(_ bytes: ByteBuffer) -> Decision {
        let count = min(bytes.readableBytes, preface.count)
        let matches = bytes.readableBytesView.prefix(count).elementsEqual(preface.prefix(count))
        if !matches { return .http1 }
        return count == preface.count ? .http2 : .needMoreBytes
    }

    private let connection: ConnectionContext
    private var waitingForALPN: Bool
    private var buffered: ByteBuffer?

    init(connection: ConnectionContext) {
        self.connection = connection
        waitingForALPN = connection.isTLS
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if buffered == nil {
            buffered = bytes
        } else {
            buffered!.writeBuffer(&bytes)
        }
        if !waitingForALPN { decideFromBytes(context: context) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case TLSUserEvent.handshakeCompleted(let negotiated):
            waitingForALPN = false
            switch negotiated {
            case "h2": switchTo(.http2, context: context)
            case "http/1.1": switchTo(.http1, context: context)
            default: decideFromBytes(context: context)
            }
        case is ChannelShouldQuiesceEvent, is ConnectionIdleEvent:
            // No request yet: nothing to finish.
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed TLS handshake, a reset before the first request: nobody to answer.
        connection.logger.debug("connection closed before its protocol was known: \(error)",
                                metadata: ["peer": "\(connection.remoteAddress ?? "?")"])
        context.close(promise: nil)
    }

    private func decideFromBytes(context: ChannelHandlerContext) {
        guard let buffered else { return }
        switch Self.decide(buffered) {
        case .needMoreBytes: return
        case let decision: switchTo(decision, context: context)
        }
    }

    private func switchTo(_ decision: Decision, context: ChannelHandlerContext) {
        do {
            let pipeline = context.pipeline.syncOperations
            if decision == .http2 {
                try pipeline.addHandler(HTTP2ServerHandler(connection: connection))
            } else {
                try ConnectionSetup.configureHTTP1(pipeline, connection: connection)
            }
        } catch {
            connection.logger.error("cannot set up the connection's protocol handlers: \(error)")
            context.close(promise: nil)
            return
        }
        if let buffered {
            self.buffered = nil
            context.fireChannelRead(wrapInboundOut(buffered))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

@available(*, unavailable) extension ProtocolDetector: Sendable {}
