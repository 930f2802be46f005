import Foundation
import HTTPFrontend
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Wire
@testable import Router

/// A router service in this process (worker listener on loopback, the API called directly) with
/// real `specula worker` processes.
final class RouterHarness: Sendable {
    let group: MultiThreadedEventLoopGroup
    let router: RouterService
    let api: APIService
    let metrics: RouterMetrics
    let workerPort: Int
    private let children = Mutex<[SpeculaChild]>([])

    private init(group: MultiThreadedEventLoopGroup, router: RouterService, api: APIService, metrics: RouterMetrics, workerPort: Int) {
        self.group = group
        self.router = router
        self.api = api
        self.metrics = metrics
        self.workerPort = workerPort
    }

    static func start(workers: Int = 1, apiKeys: [String]? = nil, maxQueue: Int = 64,
                      configure: (inout RouterConfiguration) -> Void = { _ in }) async throws -> RouterHarness {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var configuration = RouterConfiguration(proof: try HandshakeProof(token: Array(SpeculaChild.token.utf8)), maxQueue: maxQueue,
                                                heartbeatInterval: .milliseconds(200), heartbeatTimeout: .seconds(3))
        configure(&configuration)
        var logger = Logger(label: "test.router")
        logger.logLevel = .warning
        let metrics = RouterMetrics()
        let router = RouterService(configuration: configuration, loop: group.next(), metrics: metrics, logger: logger)
        let port = try await router.listen(host: "127.0.0.1", port: 0)
        let api = APIService(router: router, apiKeys: try apiKeys.map(APIKeys.init), settings: APISettings(), metrics: metrics, logger: logger)
        let harness = RouterHarness(group: group, router: router, api: api, metrics: metrics, workerPort: port)
        for index in 0..<workers { try harness.addWorker(name: "test-worker-\(index)") }
        try await harness.waitForWorkers(workers)
        return harness
    }

    @discardableResult
    func addWorker(name: String, extra: [String] = []) throws -> SpeculaChild {
        let child = try SpeculaChild.worker(routerPort: workerPort, name: name, extra: extra)
        children.withLock { $0.append(child) }
        return child
    }

    var workers: [SpeculaChild] { children.withLock { $0 } }

    /// Waits until `count` workers serve the bundled model.
    func waitForWorkers(_ count: Int, within timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await router.models()["pycode-6m"]?.workers ?? 0 != count {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("timed out waiting for \(count) workers; logs:\n" + workers.map(\.log).joined(separator: "\n---\n"))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Calls the API as the HTTP front end would.
    func call(_ method: String, _ path: String, json: String? = nil, headers: [(String, String)] = [],
              writer: RecordingWriter = RecordingWriter()) async -> RecordingWriter {
        let request = HTTPServerRequest(method: method, target: path, headers: headers.map { (name: $0.0.lowercased(), value: $0.1) },
                                        body: ByteBuffer(string: json ?? ""), protocolVersion: .http2)
        await api.handle(request, response: writer)
        return writer
    }

    func stop() async {
        for child in workers { child.kill() }
        try? await router.shutdown()
        try? await group.shutdownGracefully()
    }
}
