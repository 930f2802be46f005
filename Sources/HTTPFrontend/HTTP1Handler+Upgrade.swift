import NIOCore
import NIOHTTP1

extension HTTP1Handler {
    /// Answers 101 and replaces the HTTP/1.1 handlers with ``HTTP2ServerHandler``, which serves
    /// `request` as stream 1. The client sends its HTTP/2 preface only after the 101, so no HTTP/2
    /// byte is waiting in the HTTP/1.1 decoder.
    func switchToHTTP2(_ upgrade: H2CUpgrade, request: HTTPServerRequest, context: ChannelHandlerContext) {
        let head = NIOHTTP1.HTTPResponseHead(version: .http1_1, status: .switchingProtocols,
                                             headers: ["connection": "Upgrade", "upgrade": "h2c"])
        context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        var request = request
        request.protocolVersion = .http2
        let http2 = HTTP2ServerHandler(connection: connection, upgrade: .init(request: request, settingsPayload: upgrade.settingsPayload))
        do {
            let pipeline = context.pipeline.syncOperations
            // Outbound HTTP/1.1 handlers first, so HTTP/2's first bytes (SETTINGS) pass untouched.
            // (Removal of these handlers completes synchronously, in this order.)
            pipeline.removeHandler(try pipeline.handler(type: HTTPServerPipelineHandler.self), promise: nil)
            pipeline.removeHandler(try pipeline.handler(type: NIOHTTPResponseHeadersValidator.self), promise: nil)
            pipeline.removeHandler(try pipeline.handler(type: HTTPResponseEncoder.self), promise: nil)
            try pipeline.addHandler(http2, position: .after(self))
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            pipeline.removeHandler(context: context, promise: nil)
            pipeline.removeHandler(decoder, promise: nil)
        } catch {
            connection.logger.error("h2c upgrade: cannot rebuild the pipeline: \(error)")
            context.close(promise: nil)
        }
    }
}
