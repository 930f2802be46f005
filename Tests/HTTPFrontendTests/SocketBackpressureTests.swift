import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A slow HTTP/1.1 reader on a real socket slows the service's writes to its pace.
@Suite("socket backpressure", .timeLimit(.minutes(3)))
struct SocketBackpressureTests {
    /// Counts the bytes a client connection receives.
    final class ByteCounter: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex(0)
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let count = unwrapInboundIn(data).readableBytes
            received.withLock { $0 += count }
        }
    }

    @Test func aClientThatDoesNotReadHoldsTheWriter() async throws {
        try await LiveServer.with { live in
            let counter = ByteCounter()
            let channel = try await ClientBootstrap(group: live.group)
                .channelOption(.autoRead, value: false)
                .channelOption(.socketOption(.so_rcvbuf), value: 16 * 1024)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(counter) }
                }
                .connect(host: "127.0.0.1", port: live.server.port).get()
            let chunks = 2000, size = 16 * 1024  // 32 MiB, far more than the socket buffers hold
            try await channel.writeAndFlush(ByteBuffer(string: "GET /stream?n=\(chunks)&size=\(size) HTTP/1.1\r\nhost: t\r\n\r\n"))

            func written() -> Int { live.service.count { if case .chunkWritten = $0 { true } else { false } } }
            var last = -1
            var stableRounds = 0
            while stableRounds < 20 {  // unchanged for a second: the writer waits
                try await Task.sleep(for: .milliseconds(50))
                let now = written()
                stableRounds = now == last ? stableRounds + 1 : 0
                last = now
            }
            #expect(last < chunks, "the service is held back while nobody reads")

            try await channel.setOption(.autoRead, value: true)
            channel.read()
            try await live.service.waitFor("the whole stream") { $0 == .finished("/stream") }
            func received() -> Int { counter.received.withLock { $0 } }
            for _ in 0..<6000 where received() < chunks * size {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(received() > chunks * size)
            try await channel.close()
        }
    }
}
