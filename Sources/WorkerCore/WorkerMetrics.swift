import Foundation
import Metrics
import NIOCore
import Wire

/// Per-router metrics (swift-metrics; the process picks the backend, none by default).
struct LinkMetrics {
    let assignments: Counter
    let connects: Counter
    let disconnects: Counter

    init(router: String) {
        let dimensions = [("router", router)]
        assignments = Counter(label: "specula_worker_assignments_total", dimensions: dimensions)
        connects = Counter(label: "specula_worker_registrations_total", dimensions: dimensions)
        disconnects = Counter(label: "specula_worker_disconnects_total", dimensions: dimensions)
    }
}

/// Worker-wide metrics, and (when wire timing is on) the wire path's timings, kept in-process too so
/// the worker can log them on exit.
struct WorkerMetrics {
    let generatedTokens = Counter(label: "specula_worker_generated_tokens_total")
    let inFlight = Gauge(label: "specula_worker_requests_in_flight")
    let registeredConnections = Gauge(label: "specula_worker_registered_connections")
    /// From the engine handing over a step's events to the `tokens` frame reaching the socket.
    let eventToWire = Timer(label: "specula_worker_event_to_wire_seconds")
    private var finishes: [String: Counter] = [:]

    /// Event → frame written, per `tokens` frame.
    private(set) var overhead = LatencyHistogram()
    /// The part of it spent before the event loop picks the events up (thread hand-off), per batch.
    private(set) var hop = LatencyHistogram()
    /// Event-loop thread CPU spent delivering engine events (building and encoding frames, writing,
    /// flushing), the part of it spent flushing (NIO's write path and the `writev` system call), and
    /// the tokens those events carried.
    private(set) var deliveryCPUNanoseconds: Int64 = 0
    private(set) var flushCPUNanoseconds: Int64 = 0
    private(set) var deliveredTokens = 0

    mutating func recordHop(_ amount: TimeAmount) {
        hop.record(amount.nanoseconds)
    }

    mutating func finished(reason: String) {
        if finishes[reason] == nil {
            finishes[reason] = Counter(label: "specula_worker_finished_total", dimensions: [("reason", reason)])
        }
        finishes[reason]?.increment()
    }

    mutating func recordWireOverhead(_ amount: TimeAmount) {
        eventToWire.recordNanoseconds(amount.nanoseconds)
        overhead.record(amount.nanoseconds)
    }

    mutating func recordDelivery(cpuNanoseconds: Int64, flushNanoseconds: Int64, tokens: Int) {
        deliveryCPUNanoseconds += cpuNanoseconds
        flushCPUNanoseconds += flushNanoseconds
        deliveredTokens += tokens
    }

    /// `frames=N mean_us=… p50_us=… p90_us=… p99_us=… max_us=… loop_hop_mean_us=… … tokens=N
    /// cpu_us_per_token=… flush_cpu_us_per_token=…`, for the exit log.
    var overheadSummary: String {
        func perToken(_ nanoseconds: Int64) -> String {
            LatencyHistogram.microseconds(deliveredTokens == 0 ? 0 : Double(nanoseconds) / Double(deliveredTokens))
        }
        return "frames=\(overhead.count) \(overhead.summary()) \(hop.summary("loop_hop_")) tokens=\(deliveredTokens) "
            + "cpu_us_per_token=\(perToken(deliveryCPUNanoseconds)) flush_cpu_us_per_token=\(perToken(flushCPUNanoseconds))"
    }
}

/// CPU time of the calling thread, exact to the nanosecond (`SPECULA_WIRE_TIMING` only: a system
/// call). Not `getrusage(RUSAGE_THREAD)`: it gave implausible figures here (its total can lag the running
/// slice, which spoils windows of tens of microseconds).
func threadCPUNanoseconds() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
}
