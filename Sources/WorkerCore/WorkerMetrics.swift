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
    /// Event-loop thread CPU spent delivering engine events (encoding, compressing, writing), and the
    /// tokens those events carried.
    private(set) var deliveryCPU = ThreadCPUTime(userMicroseconds: 0, systemMicroseconds: 0)
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

    mutating func recordDelivery(_ cpu: ThreadCPUTime, tokens: Int) {
        deliveryCPU.userMicroseconds += cpu.userMicroseconds
        deliveryCPU.systemMicroseconds += cpu.systemMicroseconds
        deliveredTokens += tokens
    }

    /// `frames=N mean_us=… p50_us=… p90_us=… p99_us=… max_us=… loop_hop_mean_us=… … tokens=N
    /// cpu_us_per_token=… cpu_system_share=…`, for the exit log.
    var overheadSummary: String {
        let total = deliveryCPU.userMicroseconds + deliveryCPU.systemMicroseconds
        let perToken = deliveredTokens == 0 ? 0 : Double(total) * 1000 / Double(deliveredTokens)
        let systemPercent = total == 0 ? 0 : Int((Double(deliveryCPU.systemMicroseconds) * 100 / Double(total)).rounded())
        return "frames=\(overhead.count) \(overhead.summary()) \(hop.summary("loop_hop_")) "
            + "tokens=\(deliveredTokens) cpu_us_per_token=\(LatencyHistogram.microseconds(perToken)) cpu_system_share=\(systemPercent)%"
    }
}

/// CPU time of the calling thread, in user space and in the kernel (`SPECULA_WIRE_TIMING` only: a
/// system call). Linux splits the precise total between the two by tick samples, so the split is
/// approximate over a few hundred ticks, the total exact to the microsecond.
struct ThreadCPUTime {
    var userMicroseconds: Int64
    var systemMicroseconds: Int64

    #if os(Linux)
    /// glibc's `RUSAGE_THREAD` (1), which Swift does not import (it needs `_GNU_SOURCE`).
    private static let rusageThread = __rusage_who_t(1)

    static func now() -> ThreadCPUTime {
        var usage = rusage()
        getrusage(Self.rusageThread, &usage)
        return ThreadCPUTime(userMicroseconds: Int64(usage.ru_utime.tv_sec) * 1_000_000 + Int64(usage.ru_utime.tv_usec),
                             systemMicroseconds: Int64(usage.ru_stime.tv_sec) * 1_000_000 + Int64(usage.ru_stime.tv_usec))
    }
    #else
    /// No per-thread user/kernel split here: the thread's whole CPU time counts as user time.
    static func now() -> ThreadCPUTime {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return ThreadCPUTime(userMicroseconds: Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1000, systemMicroseconds: 0)
    }
    #endif

    static func - (a: ThreadCPUTime, b: ThreadCPUTime) -> ThreadCPUTime {
        ThreadCPUTime(userMicroseconds: a.userMicroseconds - b.userMicroseconds, systemMicroseconds: a.systemMicroseconds - b.systemMicroseconds)
    }
}
