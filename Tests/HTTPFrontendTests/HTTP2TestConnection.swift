import Logging
import NIOCore
import NIOEmbedded
@testable import HTTPFrontend

/// A server connection (the front end's whole connection setup in a `NIOAsyncTestingChannel`) and
/// an nghttp2 client session, with the bytes moved between them by the test.
final class HTTP2TestConnection {
    let server: NIOAsyncTestingChannel
    let client: NGHTTP2TestClient
    /// Bytes the server wrote, in order, for tests that look at the raw stream.
    private(set) var serverBytes = ByteBuffer()

    init(service: TestService, limits: HTTPLimits = .default, lifecycle: ServerLifecycle = ServerLifecycle(),
         client: NGHTTP2TestClient? = nil, execution: ServiceExecution = .globalExecutor) async throws {
        server = NIOAsyncTestingChannel()
        self.client = try client ?? NGHTTP2TestClient()
        let connection = ConnectionContext(service: service, limits: limits, logger: Logger(label: "test"),
                                           lifecycle: lifecycle, isTLS: false, remoteAddress: nil,
                                           serviceExecution: execution)
        let server = server
        try await server.testingEventLoop.executeInContext {
            try ConnectionSetup.configure(server, tls: nil, connection: connection)
        }
        try await server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080))
    }

    /// Sends raw bytes to the server.
    func sendRaw(_ bytes: ByteBuffer) async throws {
        guard server.isActive else { return }
        try await server.writeInbound(bytes)
    }

    /// One round: what the client has to send goes to the server, what the server wrote goes to the
    /// client. Returns whether any byte moved.
    @discardableResult
    func exchange() async throws -> Bool {
        var moved = false
        let out = client.output()
        if out.readableBytes > 0 && server.isActive {
            try await server.writeInbound(out)
            moved = true
        }
        // Tasks the handlers scheduled on the loop from inside a read (service tasks running on the
        // connection's loop) wait for the test to run the testing loop.
        await server.testingEventLoop.run()
        while let bytes = try await server.readOutbound(as: ByteBuffer.self) {
            var copy = bytes
            serverBytes.writeBuffer(&copy)
            try client.receive(bytes)
            moved = true
        }
        return moved
    }

    /// Exchanges bytes until `condition` holds (the service runs in other tasks, so this polls;
    /// bounded by the suites' time limits).
    func run(until what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<60_000 {
            try await exchange()
            if condition() { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw TestFailure("timed out waiting until \(what)")
    }

    /// Exchanges until both sides are quiet for a while: the stall a test expects has set in.
    func settle() async throws {
        var quietRounds = 0
        while quietRounds < 50 {
            quietRounds = try await exchange() ? 0 : quietRounds + 1
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    func waitForClose() async throws {
        try await run(until: "the server closed the connection") { !server.isActive }
    }
}
