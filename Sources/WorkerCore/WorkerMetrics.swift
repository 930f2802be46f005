import Foundation
import Metrics
import NIOCore

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

/// Worker-wide metrics, and the wire overhead kept in-process too so the worker can log it on exit.
struct WorkerMetrics {
    let generatedTokens = Counter(label: "specula_worker_generated_tokens_total")
    let inFlight = Gauge(label: "specula_worker_requests_in_flight")
    let registeredConnections = Gauge(label: "specula_worker_registered_connections")
    /// From the engine handing over a step's events to the `tokens` frame reaching the socket.
    let eventToWire = Timer(label: "specula_worker_event_to_wire_seconds")
    private var finishes: [String: Counter] = [:]

    /// Event → frame written, over the process's life.
    private(set) var overheadFrames = 0
    private(set) var overheadTotalNanoseconds: Int64 = 0
    private(set) var overheadMaxNanoseconds: Int64 = 0
    /// The part of it spent before the event loop picks the events up (thread hand-off).
    private(set) var hopBatches = 0
    private(set) var hopTotalNanoseconds: Int64 = 0

    mutating func recordHop(_ amount: TimeAmount) {
        hopBatches += 1
        hopTotalNanoseconds += amount.nanoseconds
    }

    mutating func finished(reason: String) {
        if finishes[reason] == nil {
            finishes[reason] = Counter(label: "specula_worker_finished_total", dimensions: [("reason", reason)])
        }
        finishes[reason]?.increment()
    }

    mutating func recordWireOverhead(_ amount: TimeAmount) {
        eventToWire.recordNanoseconds(amount.nanoseconds)
        overheadFrames += 1
        overheadTotalNanoseconds += amount.nanoseconds
        overheadMaxNanoseconds = max(overheadMaxNanoseconds, amount.nanoseconds)
    }

    /// `frames=N mean_us=… max_us=… loop_hop_mean_us=…`, for the exit log.
    var overheadSummary: String {
        let mean = overheadFrames == 0 ? 0 : Double(overheadTotalNanoseconds) / Double(overheadFrames) / 1000
        let hop = hopBatches == 0 ? 0 : Double(hopTotalNanoseconds) / Double(hopBatches) / 1000
        return "frames=\(overheadFrames) mean_us=\(String(format: "%.1f", mean)) max_us=\(overheadMaxNanoseconds / 1000) "
            + "loop_hop_mean_us=\(String(format: "%.1f", hop))"
    }
}
