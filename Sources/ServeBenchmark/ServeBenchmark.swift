import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `specula bench serve`: streams `/v1/completions` requests at a server the way `vllm bench serve`
/// does (closed loop at fixed concurrency, or Poisson arrivals at a rate) and records, per request,
/// when it was sent, when every chunk arrived and what usage the server reported.
public enum ServeBenchmark {
    public struct Options: Sendable {
        public var target: BenchTarget
        /// The `model` field; nil takes the first model `/v1/models` lists.
        public var model: String?
        public var prompts: [PromptFile.Prompt]
        public var load: LoadShape
        /// Overrides every prompt's max_tokens.
        public var maxTokens: Int?
        public var temperature = 0.0
        /// Specula's `speculation` request field (`auto`, `off`); nil leaves it to the server.
        public var speculation: String?
        /// vLLM's `ignore_eos` extension; sent only when true.
        public var ignoreEOS = false
        public var apiKey: String?
        public var timeout: TimeAmount = .seconds(600)

        public init(target: BenchTarget, model: String?, prompts: [PromptFile.Prompt], load: LoadShape) {
            self.target = target
            self.model = model
            self.prompts = prompts
            self.load = load
        }
    }

    public struct Progress: Sendable, Equatable {
        public var total = 0
        public var sent = 0
        public var finished = 0
        public var failed = 0
        public var outputTokens = 0
        public var elapsed = 0.0
    }

    public struct Result: Sendable {
        public let model: String
        public let records: [RequestRecord]
        public let duration: Double
        public let connections: Int

        public init(model: String, records: [RequestRecord], duration: Double, connections: Int) {
            self.model = model
            self.records = records
            self.duration = duration
            self.connections = connections
        }

        public var summary: ServeSummary { ServeSummary(records: records, duration: duration) }
    }

    /// Runs every prompt once; `progress` is called about twice a second and once at the end.
    public static func run(_ options: Options, progress: @escaping @Sendable (Progress) -> Void) async throws -> Result {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = ConnectionPool(group: group, target: options.target)
        do {
            let model = try await ModelList.resolve(options.model, pool: pool, options: options)
            let result = try await measure(options, model: model, pool: pool, progress: progress)
            await pool.closeAll()
            try await group.shutdownGracefully()
            return result
        } catch {
            await pool.closeAll()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private static func measure(_ options: Options, model: String, pool: ConnectionPool,
                                progress: @escaping @Sendable (Progress) -> Void) async throws -> Result {
        let start = NIODeadline.now()
        let state = RunState(total: options.prompts.count)
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                progress(state.snapshot(elapsed: BenchExchangeHandler.seconds(since: start)))
            }
        }
        let send: @Sendable (Int) async -> RequestRecord = { index in
            state.progress.withLock { $0.sent += 1 }
            let record = await Self.send(index, options: options, model: model, pool: pool, start: start)
            state.progress.withLock {
                $0.finished += 1
                $0.failed += record.succeeded ? 0 : 1
                $0.outputTokens += record.completionTokens ?? 0
            }
            return record
        }
        var records = try await schedule(options, start: start, state: state, send: send)
        ticker.cancel()
        records.sort { $0.index < $1.index }
        let duration = records.compactMap(\.finished).max() ?? 0
        progress(state.snapshot(elapsed: duration))
        return Result(model: model, records: records, duration: duration, connections: pool.connectionsOpened)
    }

    /// Starts the requests as the load shape says and gathers their records.
    private static func schedule(_ options: Options, start: NIODeadline, state: RunState,
                                 send: @escaping @Sendable (Int) async -> RequestRecord) async throws -> [RequestRecord] {
        let count = options.prompts.count
        return try await withThrowingTaskGroup(of: [RequestRecord].self) { group in
            switch options.load {
            case .concurrency(let slots):
                for _ in 0..<min(slots, count) {
                    group.addTask {
                        var mine: [RequestRecord] = []
                        while case let index = state.next.add(1, ordering: .relaxed).oldValue, index < count {
                            mine.append(await send(index))
                        }
                        return mine
                    }
                }
            case .rate(let rate, let seed):
                var arrivals = PoissonArrivals(rate: rate, seed: seed)
                for (index, offset) in arrivals.offsets(count: count).enumerated() {
                    let wait = offset - BenchExchangeHandler.seconds(since: start)
                    if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
                    group.addTask { [await send(index)] }
                }
            }
            var records: [RequestRecord] = []
            for try await part in group { records += part }
            return records
        }
    }

    private static func send(_ index: Int, options: Options, model: String, pool: ConnectionPool,
                             start: NIODeadline) async -> RequestRecord {
        let prompt = options.prompts[index]
        let body = requestBody(prompt, options: options, model: model)
        let head = requestHead(options, path: "/v1/completions", method: .POST, contentLength: body.readableBytes)
        let record = RequestRecord(index: index, promptID: prompt.id, sent: BenchExchangeHandler.seconds(since: start))
        let outcome = await pool.perform(head: head, body: body, mode: .stream(CompletionStream(record: record)),
                                         start: start, timeout: options.timeout)
        if let finished = outcome.record { return finished }
        var failed = record
        failed.finished = BenchExchangeHandler.seconds(since: start)
        failed.error = outcome.failure ?? "no response"
        return failed
    }

    static func requestBody(_ prompt: PromptFile.Prompt, options: Options, model: String) -> ByteBuffer {
        var object: [String: Any] = [
            "model": model, "prompt": prompt.text, "max_tokens": options.maxTokens ?? prompt.maxTokens,
            "temperature": options.temperature, "stream": true, "stream_options": ["include_usage": true],
        ]
        if let speculation = options.speculation { object["speculation"] = speculation }
        if options.ignoreEOS { object["ignore_eos"] = true }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return ByteBuffer(bytes: data)
    }

    static func requestHead(_ options: Options, path: String, method: HTTPMethod, contentLength: Int?) -> HTTPRequestHead {
        var headers = HTTPHeaders([("Host", options.target.authority), ("User-Agent", "specula-bench-serve")])
        if let contentLength {
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: "\(contentLength)")
            headers.add(name: "Accept", value: "text/event-stream")
        }
        if let key = options.apiKey { headers.add(name: "Authorization", value: "Bearer \(key)") }
        return HTTPRequestHead(version: .http1_1, method: method, uri: options.target.basePath + path, headers: headers)
    }
}

/// What the concurrent senders share: the next prompt to take and the progress counters.
private final class RunState: Sendable {
    let next = Atomic<Int>(0)
    let progress: Mutex<ServeBenchmark.Progress>

    init(total: Int) {
        progress = Mutex(ServeBenchmark.Progress(total: total))
    }

    func snapshot(elapsed: Double) -> ServeBenchmark.Progress {
        progress.withLock {
            $0.elapsed = elapsed
            return $0
        }
    }
}
