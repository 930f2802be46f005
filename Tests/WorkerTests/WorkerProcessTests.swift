import Foundation
import NIOCore
import ServingTestSupport
import Testing
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// A real `specula worker` process against a test router built from the wire module.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct WorkerProcessTests {
    static let prompt = "def fibonacci(n):"

    static func assignment(_ id: UInt64, prompt: String = WorkerProcessTests.prompt, maxTokens: UInt32, ignoreEOS: Bool = false) -> Assignment {
        Assignment(requestID: id, prompt: .text(prompt), sampling: SamplingParameters(temperature: 0), maxTokens: maxTokens,
                   ignoreEOS: ignoreEOS, speculation: .off)
    }

    @Test func registersPullsAndGeneratesTheSameGreedyTextAsGenerate() async throws {
        let router = try await TestRouter.start(token: WorkerProcess.token)
        let worker = try WorkerProcess(routers: [router.port])
        defer { worker.kill() }
        let connection = try await router.nextConnection()
        guard case .authenticated(let name) = try await connection.next() else { throw ProcessError("no handshake") }
        #expect(name == "test-worker")
        guard case .register(let register) = try await connection.nextMessage() else { throw ProcessError("no register") }
        #expect(register.modelID == "pycode-6m")
        #expect(register.maxBatchSequences == 4 && !register.supportsSpeculation)
        #expect(register.contextLength > 0 && register.kvCapacityTokens > 0 && register.maxPromptTokens < register.contextLength)
        connection.send(.registration(Registration(accepted: true)))
        #expect(try await connection.nextMessage() == .credits(Credits(count: 4)), "initial credits: the engine's whole room")

        connection.send(.assign(Self.assignment(7, maxTokens: 32)))
        let result = try await connection.collect(7)
        let reference = try ReferenceGeneration.text(prompt: Self.prompt, maxTokens: 32)
        #expect(result.text == reference)
        #expect(!result.text.isEmpty)
        #expect(result.finish.reason == .length || result.finish.reason == .stop)
        #expect(result.finish.completionTokens == UInt32(result.ids.count))
        #expect(result.finish.promptTokens > 0)
        #expect(try await connection.nextMessage() == .credits(Credits(count: 1)), "the finished request's room is offered again")
        await router.stop()
    }

    @Test func cancelStopsARequestMidStream() async throws {
        let router = try await TestRouter.start(token: WorkerProcess.token)
        let worker = try WorkerProcess(routers: [router.port])
        defer { worker.kill() }
        let connection = try await router.nextConnection()
        _ = try await connection.acceptRegistration()
        // Cancelled from the connection's event loop as the first tokens arrive: sent from the test's
        // task, in a clean-clone CI run the cancel went out only after the worker had run the request
        // to its end (finish reason length).
        connection.whenTokensArrive { connection.send(.cancel(Cancel(requestID: 11))) }
        connection.send(.assign(Self.assignment(11, maxTokens: 2000, ignoreEOS: true)))
        let result = try await connection.collect(11)
        #expect(result.finish.reason == .cancelled)
        #expect(result.ids.count < 2000)
        #expect(result.finish.completionTokens == UInt32(result.ids.count))
        connection.send(.cancel(Cancel(requestID: 11)))  // already finished: ignored, no second finish
        #expect(try await connection.nextMessage() == .credits(Credits(count: 1)))

        // A cancel right behind its assignment (likely while the prompt is still being tokenized).
        let longPrompt = String(repeating: "for i in range(10):\n    print(i)\n", count: 40)
        connection.send(.assign(Self.assignment(12, prompt: longPrompt, maxTokens: 2000, ignoreEOS: true)))
        connection.send(.cancel(Cancel(requestID: 12)))
        let early = try await connection.collect(12)
        #expect(early.finish.reason == .cancelled)
        #expect(try await connection.nextMessage() == .credits(Credits(count: 1)))
        await router.stop()
    }

    @Test func silentRouterTimesOutAndTheWorkerReconnects() async throws {
        let router = try await TestRouter.start(token: WorkerProcess.token)
        let worker = try WorkerProcess(routers: [router.port])
        defer { worker.kill() }
        let connection = try await router.nextConnection()
        _ = try await connection.acceptRegistration()
        // Idle: the worker sends heartbeat requests (interval 200 ms).
        guard case .message(.heartbeat(let beat)) = try await connection.next(within: .seconds(5)) else {
            throw ProcessError("expected a heartbeat from an idle worker")
        }
        #expect(!beat.isReply)
        connection.send(.heartbeat(Heartbeat(sequence: 77)))
        var replied = false
        while !replied {
            if case .message(.heartbeat(let reply)) = try await connection.next(within: .seconds(5)), reply.isReply {
                #expect(reply.sequence == 77)
                replied = true
            }
        }
        connection.mute()
        var timeoutError: ErrorMessage?
        loop: while true {
            switch try await connection.next(within: .seconds(10)) {
            case .message(.error(let error)): timeoutError = error
            case .closed: break loop
            default: continue
            }
        }
        #expect(timeoutError?.code == .heartbeatTimeout)
        let again = try await router.nextConnection(within: .seconds(10))
        #expect(try await again.acceptRegistration().credits == 4)
        await router.stop()
    }

    /// The test router only answers heartbeats, and a streaming worker is never idle: it must still
    /// ask, or it would take a long stream for a dead router.
    @Test func aStreamLongerThanTheHeartbeatTimeoutKeepsARouterThatOnlyAnswers() async throws {
        let router = try await TestRouter.start(token: WorkerProcess.token)
        let worker = try WorkerProcess(routers: [router.port], heartbeatMs: (interval: 40, timeout: 300))
        defer { worker.kill() }
        let connection = try await router.nextConnection()
        _ = try await connection.acceptRegistration()
        let started = ContinuousClock.now
        connection.send(.assign(Self.assignment(41, maxTokens: 1000, ignoreEOS: true)))
        let result = try await connection.collect(41)
        #expect(result.finish.reason == .length && result.ids.count == 1000)
        #expect(ContinuousClock.now - started > .milliseconds(300), "the stream outlasted the timeout")
        #expect(!worker.log.contains("heartbeat timeout"))
        await router.stop()
    }

    @Test func reconnectsAfterTheRouterRestartsAndServesAgain() async throws {
        let router = try await TestRouter.start(token: WorkerProcess.token)
        let port = router.port
        let worker = try WorkerProcess(routers: [port])
        defer { worker.kill() }
        let connection = try await router.nextConnection()
        _ = try await connection.acceptRegistration()
        connection.send(.assign(Self.assignment(21, maxTokens: 2000, ignoreEOS: true)))
        guard case .tokens = try await connection.nextMessage() else { throw ProcessError("expected tokens") }
        await router.stop()

        let restarted = try await TestRouter.start(token: WorkerProcess.token, port: port)
        let second = try await restarted.nextConnection(within: .seconds(15))
        var credits = try await second.acceptRegistration().credits
        // The orphaned request is cancelled on the worker; its room comes back, if not already.
        while credits < 4 {
            guard case .credits(let more) = try await second.nextMessage(within: .seconds(10)) else { throw ProcessError("expected credits") }
            credits += more.count
        }
        #expect(credits == 4)
        second.send(.assign(Self.assignment(1, maxTokens: 8)))
        let result = try await second.collect(1)
        #expect(result.finish.reason == .length || result.finish.reason == .stop)
        #expect(worker.log.contains("cancelled_requests=1"))
        await restarted.stop()
    }

    /// With the wire diagnostics on (`SPECULA_WIRE_CAPTURE`, `SPECULA_WIRE_TIMING`), which must not
    /// change what is sent: the capture holds exactly the frames the router received.
    @Test func sigtermDrainsInFlightWorkAndExitsZero() async throws {
        let router = try await TestRouter.start(token: WorkerProcess.token)
        let captureFolder = FileManager.default.temporaryDirectory.appendingPathComponent("specula-capture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: captureFolder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: captureFolder) }
        let worker = try WorkerProcess(routers: [router.port], environment: [
            "SPECULA_WIRE_CAPTURE": captureFolder.path + "/t-", "SPECULA_WIRE_TIMING": "1",
        ])
        defer { worker.kill() }
        let connection = try await router.nextConnection()
        _ = try await connection.acceptRegistration()
        connection.send(.assign(Self.assignment(31, maxTokens: 300, ignoreEOS: true)))
        guard case .tokens(let first) = try await connection.nextMessage() else { throw ProcessError("expected tokens") }
        worker.signal(SIGTERM)
        var ids = first.tokenIDs
        var drained = false
        var refusal: Finish?
        var finish: Finish?
        while finish == nil || refusal == nil {
            switch try await connection.nextMessage() {
            case .drain(let drain):
                #expect(drain.reason == "SIGTERM")
                drained = true
                connection.send(.assign(Self.assignment(99, maxTokens: 4)))  // after drain: must be refused
            case .tokens(let event): ids += event.tokenIDs
            case .finish(let done) where done.requestID == 31: finish = done
            case .finish(let done) where done.requestID == 99: refusal = done
            case let other: throw ProcessError("unexpected \(other) while draining")
            }
        }
        #expect(drained)
        #expect(finish?.reason == .length && ids.count == 300, "the in-flight request runs to its end")
        #expect(refusal?.reason == .error)
        #expect(refusal?.errorMessage.contains("drain") == true)
        #expect(try await connection.next(within: .seconds(10)) == .closed)
        #expect(try await worker.waitForExit(within: .seconds(20)) == 0)
        let overhead = worker.log.split(separator: "\n").first { $0.contains("wire_overhead") }
        #expect(overhead?.contains("p99_us=") == true && overhead?.contains("flush_cpu_us_per_token=") == true)
        print("worker drained; \(overhead.map(String.init) ?? "no overhead line")")
        let files = try FileManager.default.contentsOfDirectory(atPath: captureFolder.path)
        #expect(files.count == 1 && files.first?.hasPrefix("t-worker-") == true)
        let capture = try WireCapture(bytes: ByteBuffer(bytes: try Data(contentsOf: captureFolder.appendingPathComponent(files.first ?? ""))))
        let captured = try capture.records.map { try WireMessage(type: $0.type, payload: $0.payload) }
        let capturedIDs = captured.flatMap { message -> [UInt32] in
            if case .tokens(let event) = message, event.requestID == 31 { event.tokenIDs } else { [] }
        }
        #expect(capturedIDs == ids)
        #expect(captured.first?.type == .authenticate && captured.contains { $0.type == .drain })
        await router.stop()
    }

    @Test func aWorkerWithTheWrongTokenIsRefusedAndSaysWhy() async throws {
        let router = try await TestRouter.start(token: WorkerProcess.token)
        let worker = try WorkerProcess(routers: [router.port], token: Array("a-different-token-of-32-bytes!!!".utf8))
        defer { worker.kill() }
        let connection = try await router.nextConnection()
        var events: [PeerEvent] = []
        while events.last != .closed { events.append(try await connection.next()) }
        #expect(!events.contains { if case .authenticated = $0 { true } else { false } })
        #expect(!events.contains { if case .message = $0 { true } else { false } }, "the router never sees a session frame")
        #expect(events.contains { if case .error(let text) = $0 { text.contains("failed authentication") } else { false } })
        let deadline = ContinuousClock.now + .seconds(10)
        while !worker.log.contains("authentication failed"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(worker.log.contains("authentication failed"))
        #expect(worker.log.contains("does not match this router's token"))
        await router.stop()
    }

    @Test func sharesItsRoomBetweenTwoRoutersWithoutPromisingItTwice() async throws {
        let first = try await TestRouter.start(token: WorkerProcess.token)
        let second = try await TestRouter.start(token: WorkerProcess.token)
        let worker = try WorkerProcess(routers: [first.port, second.port])
        defer { worker.kill() }
        let connections = [try await first.nextConnection(), try await second.nextConnection()]
        for connection in connections { try await connection.register() }
        var held = [UInt32(0), 0]
        for (index, connection) in connections.enumerated() { held[index] = try await connection.credits(within: .milliseconds(700)) }
        #expect(held[0] + held[1] == 4, "the engine's room (4), split over both routers, never promised twice")
        // Run one request where there is credit; its room goes back to the router holding fewest.
        let user = held[0] > 0 ? 0 : 1
        connections[user].send(.assign(Self.assignment(5, maxTokens: 6)))
        let result = try await connections[user].collect(5)
        #expect(result.finish.reason != .error)
        held[user] -= 1
        let target = held[0] <= held[1] ? 0 : 1
        var regained = [UInt32(0), 0]
        for (index, connection) in connections.enumerated() { regained[index] = try await connection.credits(within: .milliseconds(500)) }
        #expect(regained[target] == 1 && regained[1 - target] == 0)
        await first.stop()
        await second.stop()
    }
}

/// Deadlines and credit limits, on a real worker process.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct WorkerLimitTests {
    @Test func aDeadlineCancelsTheRequest() async throws {
        let router = try await TestRouter.start(token: WorkerProcess.token)
        let worker = try WorkerProcess(routers: [router.port])
        defer { worker.kill() }
        let connection = try await router.nextConnection()
        _ = try await connection.acceptRegistration()
        var assignment = WorkerProcessTests.assignment(3, maxTokens: 100_000, ignoreEOS: true)
        assignment.timeoutMilliseconds = 300
        let start = ContinuousClock.now
        connection.send(.assign(assignment))
        let result = try await connection.collect(3)
        #expect(result.finish.reason == .cancelled)
        #expect(ContinuousClock.now - start >= .milliseconds(300))
        await router.stop()
    }

    @Test func anAssignmentBeyondTheCreditsIsRefusedAndTheConnectionStays() async throws {
        let router = try await TestRouter.start(token: WorkerProcess.token)
        let worker = try WorkerProcess(routers: [router.port])
        defer { worker.kill() }
        let connection = try await router.nextConnection()
        let credits = try await connection.acceptRegistration().credits
        for id in 1...UInt64(credits) + 1 {
            connection.send(.assign(WorkerProcessTests.assignment(id, maxTokens: 100_000, ignoreEOS: true)))
        }
        var refused: Finish?
        while refused == nil {
            if case .finish(let finish) = try await connection.nextMessage() { refused = finish }
        }
        #expect(refused?.requestID == UInt64(credits) + 1)
        #expect(refused?.reason == .error && refused?.errorMessage.contains("without credit") == true)
        for id in 1...UInt64(credits) { connection.send(.cancel(Cancel(requestID: id))) }
        var cancelled: Set<UInt64> = []
        while cancelled.count < Int(credits) {
            if case .finish(let finish) = try await connection.nextMessage() {
                #expect(finish.reason == .cancelled)
                cancelled.insert(finish.requestID)
            }
        }
        await router.stop()
    }
}

/// Refusals before the worker starts: one `error:` line and a non-zero exit.
@Suite struct WorkerCommandLineTests {
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = try WorkerProcess.executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SPECULA_WORKER_TOKEN")
        env.merge(environment) { $1 }
        process.environment = env
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func withoutATokenTheWorkerRefusesToStart() throws {
        let result = try Self.run(["worker", "--router", "127.0.0.1:1"])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("error: no worker token"))
        #expect(result.stderr.contains("--worker-token-file"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func aCapturePrefixWhereNoFileCanBeCreatedIsRefused() throws {
        let result = try Self.run(["worker", "--router", "127.0.0.1:1"], environment: [
            "SPECULA_WORKER_TOKEN": String(repeating: "k", count: 32), "SPECULA_WIRE_CAPTURE": "/nonexistent-specula-dir/x-",
        ])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("error: SPECULA_WIRE_CAPTURE=/nonexistent-specula-dir/x-: cannot create a file"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func aShortTokenOrABadAddressIsRefused() throws {
        let short = try Self.run(["worker", "--router", "127.0.0.1:1"], environment: ["SPECULA_WORKER_TOKEN": "short"])
        #expect(short.status != 0 && short.stderr.contains("at least 16"))
        let address = try Self.run(["worker", "--router", "127.0.0.1"], environment: ["SPECULA_WORKER_TOKEN": String(repeating: "k", count: 32)])
        #expect(address.status != 0 && address.stderr.contains("HOST:PORT"))
    }
}

/// A worker that drafts (SSSD with a tiny datastore): greedy output must not change.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct WorkerSpeculationTests {
    @Test func speculativeGreedyTextEqualsPlainDecoding() async throws {
        let prompt = "def quicksort(items):"
        let reference = try ReferenceGeneration.text(prompt: prompt, maxTokens: 48)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("specula-sssd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // A corpus that contains the continuation, so the drafter finds drafts and some are accepted.
        let corpus = directory.appendingPathComponent("corpus.txt")
        try String(repeating: prompt + reference + "\n\n", count: 20).write(to: corpus, atomically: true, encoding: .utf8)
        let datastore = directory.appendingPathComponent("tiny.sssd").path
        try ReferenceGeneration.buildDatastore(corpus: corpus.path, out: datastore)

        let router = try await TestRouter.start(token: WorkerProcess.token)
        let worker = try WorkerProcess(routers: [router.port], datastore: datastore)
        defer { worker.kill() }
        let connection = try await router.nextConnection(within: .seconds(60))
        let (register, _) = try await connection.acceptRegistration()
        #expect(register.supportsSpeculation)
        // A fixed budget drafts every step. Whether `auto` drafts depends on this machine's timing (a
        // debug build drafts about 7x slower than a release one, and a loaded machine slower still, so its
        // policy may rightly decode plainly); its output must equal plain decoding either way.
        for (id, mode) in [(UInt64(1), SpeculationMode.fixed(8)), (2, .auto(cap: nil))] {
            connection.send(.assign(Assignment(requestID: id, prompt: .text(prompt), sampling: SamplingParameters(temperature: 0),
                                               maxTokens: 48, speculation: mode)))
            let result = try await connection.collect(id)
            #expect(result.text == reference, "\(mode)")
            guard id == 1 else { continue }
            #expect(result.finish.speculation.draftTokens > 0 && result.finish.speculation.acceptedTokens > 0)
            #expect(result.finish.speculation.steps < UInt32(result.ids.count), "accepted drafts: fewer steps than tokens")
        }
        await router.stop()
    }
}
