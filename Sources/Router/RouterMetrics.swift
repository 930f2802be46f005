import CoreMetrics
public import Prometheus
import Synchronization
import Wire

/// The router's Prometheus metrics, vLLM's names with a `specula:` prefix (`Protocols/http-api.md`,
/// "Metrics"). Made once, with fixed label sets; `GET /metrics` renders ``registry``.
public final class RouterMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    let timeToFirstToken: ValueHistogram
    let interTokenLatency: ValueHistogram
    let endToEndLatency: ValueHistogram
    let queueTime: ValueHistogram
    let waiting: Prometheus.Gauge
    let running: Prometheus.Gauge
    let workers: Prometheus.Gauge
    let promptTokens: Prometheus.Counter
    let generationTokens: Prometheus.Counter
    let drafts: Prometheus.Counter
    let draftTokens: Prometheus.Counter
    let acceptedTokens: Prometheus.Counter
    let resumed: Prometheus.Counter
    private let successes: [RequestSummary.Reason: Prometheus.Counter]
    private let dynamic: Mutex<[String: Prometheus.Counter]>

    /// The metric names this type registers (labels aside), for documentation checks.
    public static let names = [
        "specula:time_to_first_token_seconds", "specula:inter_token_latency_seconds",
        "specula:e2e_request_latency_seconds", "specula:request_queue_time_seconds",
        "specula:num_requests_waiting", "specula:num_requests_running", "specula:num_workers",
        "specula:prompt_tokens_total", "specula:generation_tokens_total", "specula:request_success_total",
        "specula:request_failure_total", "specula:requests_resumed_total",
        "specula:spec_decode_num_drafts_total", "specula:spec_decode_num_draft_tokens_total",
        "specula:spec_decode_num_accepted_tokens_total", "specula:spec_decode_num_accepted_tokens_per_pos_total",
    ]

    // vLLM's buckets, with finer steps below 10 ms for inter-token latency: a small model on a CPU
    // streams a token every few milliseconds.
    static let ttftBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0]
    static let itlBuckets = [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0]
    static let e2eBuckets = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        func histogram(_ name: String, _ buckets: [Double], _ help: String) -> ValueHistogram {
            registry.makeValueHistogram(descriptor: Self.describe(name, help), buckets: buckets)
        }
        func gauge(_ name: String, _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(descriptor: Self.describe(name, help))
        }
        func counter(_ name: String, _ help: String) -> Prometheus.Counter {
            registry.makeCounter(descriptor: Self.describe(name, help))
        }
        timeToFirstToken = histogram("specula:time_to_first_token_seconds", Self.ttftBuckets,
                                     "Seconds from arrival to the first token reaching the API")
        interTokenLatency = histogram("specula:inter_token_latency_seconds", Self.itlBuckets,
                                      "Seconds between token events of a request (one event may carry several tokens)")
        endToEndLatency = histogram("specula:e2e_request_latency_seconds", Self.e2eBuckets, "Seconds from arrival to the end of a request")
        queueTime = histogram("specula:request_queue_time_seconds", Self.ttftBuckets,
                              "Seconds a request waited in the queue before its first assignment")
        waiting = gauge("specula:num_requests_waiting", "Requests in the queues")
        running = gauge("specula:num_requests_running", "Requests assigned to workers")
        workers = gauge("specula:num_workers", "Registered workers")
        promptTokens = counter("specula:prompt_tokens_total", "Prompt tokens of finished requests")
        generationTokens = counter("specula:generation_tokens_total", "Tokens streamed to clients")
        drafts = counter("specula:spec_decode_num_drafts_total", "Verification steps that carried drafts")
        draftTokens = counter("specula:spec_decode_num_draft_tokens_total", "Draft tokens proposed")
        acceptedTokens = counter("specula:spec_decode_num_accepted_tokens_total", "Draft tokens accepted")
        resumed = counter("specula:requests_resumed_total", "Requests re-queued after their worker was lost")
        var successes: [RequestSummary.Reason: Prometheus.Counter] = [:]
        for reason in [RequestSummary.Reason.stop, .length, .timeout] {
            successes[reason] = registry.makeCounter(descriptor: Self.describe("specula:request_success_total", "Requests that finished, by finish reason"),
                                                     labels: [("finished_reason", reason.rawValue)])
        }
        self.successes = successes
        dynamic = Mutex([:])
    }

    private static func describe(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)  // units are in the names already
    }

    /// Sends swift-metrics (used by libraries) to the same registry.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// The Prometheus text exposition.
    public func render() -> [UInt8] { registry.emitToBuffer() }

    func finished(_ summary: RequestSummary) {
        successes[summary.reason]?.increment()
        promptTokens.increment(by: Int64(summary.promptTokens))
        let counts = summary.speculation
        drafts.increment(by: Int64(counts.drafts))
        draftTokens.increment(by: Int64(counts.draftTokens))
        acceptedTokens.increment(by: Int64(counts.acceptedTokens))
        for (index, count) in counts.acceptedPerPosition.enumerated() where count > 0 && index < 64 {
            counter("specula:spec_decode_num_accepted_tokens_per_pos_total", label: ("position", "\(index)"),
                    help: "Draft tokens accepted at each depth").increment(by: Int64(count))
        }
    }

    func failed(_ error: OpenAIError) {
        counter("specula:request_failure_total", label: ("status", "\(error.status)"), help: "Requests that ended with an error, by HTTP status")
            .increment()
    }

    /// A counter of a small, fixed label set (positions, statuses), made on first use.
    private func counter(_ name: String, label: (String, String), help: String) -> Prometheus.Counter {
        dynamic.withLock { counters in
            let key = "\(name){\(label.1)}"
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(descriptor: Self.describe(name, help), labels: [label])
            counters[key] = counter
            return counter
        }
    }
}
