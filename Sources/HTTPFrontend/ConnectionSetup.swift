import NIOCore
import NIOHTTP1
import NIOSSL

/// Builds a connection's pipeline: idle timer, TLS when configured, then the protocol's handlers.
enum ConnectionSetup {
    static func configure(_ channel: any Channel, tls: NIOSSLContext?, connection: ConnectionContext) throws {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(IdleTimer(timeout: connection.limits.idleTimeout))
        if let tls {
            try pipeline.addHandler(NIOSSLServerHandler(context: tls))
        }
        try pipeline.addHandler(ProtocolDetector(connection: connection))
    }

    /// NIO's HTTP/1.1 codec and pipelining handler, then ``HTTP1Handler``, at the end of the pipeline.
    static func configureHTTP1(_ pipeline: ChannelPipeline.SynchronousOperations, connection: ConnectionContext) throws {
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderListSize = connection.limits.maxHeaderListBytes
        decoderLimits.maxHeaderFieldSize = connection.limits.maxHeaderListBytes
        try pipeline.configureHTTPServerPipeline(
            withPipeliningAssistance: true, withServerUpgrade: nil, withErrorHandling: false,
            withOutboundHeaderValidation: true, withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: decoderLimits)
        try pipeline.addHandler(HTTP1Handler(connection: connection))
    }
}
