import NIOCore

/// The shared queue: one FIFO per model, each bounded by ``capacity``. A pure value; the router
/// service owns the only copy. Requests re-queued after their worker died go to the front and may
/// exceed the bound (they were admitted once already and must not be lost).
struct RequestQueue: Sendable {
    /// Most requests waiting per model for ``append(_:)`` to accept another.
    let capacity: Int
    private var queues: [String: CircularBuffer<RouterRequest>] = [:]
    /// Requests waiting over all models.
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity >= 0, "queue capacity must be >= 0")
        self.capacity = capacity
    }

    func count(for model: String) -> Int { queues[model]?.count ?? 0 }

    /// Models with at least one request waiting.
    var waitingModels: [String] { queues.compactMap { $0.value.isEmpty ? nil : $0.key } }

    /// Adds a new request at the back; false when its model's queue is full, unless `bypassBound`
    /// (a worker takes it at once, so it never waits).
    mutating func append(_ request: RouterRequest, bypassBound: Bool = false) -> Bool {
        guard bypassBound || count(for: request.model) < capacity else { return false }
        queues[request.model, default: CircularBuffer()].append(request)
        count += 1
        return true
    }

    /// Puts a request back at the front (failover): it runs next, before anything that arrived later.
    mutating func prepend(_ request: RouterRequest) {
        queues[request.model, default: CircularBuffer()].prepend(request)
        count += 1
    }

    /// The oldest request of `model`.
    mutating func popFirst(model: String) -> RouterRequest? {
        guard let request = queues[model]?.popFirst() else { return nil }
        count -= 1
        return request
    }

    /// Takes a request out wherever it is (its client went away).
    mutating func remove(id: UInt64, model: String) -> RouterRequest? {
        guard let index = queues[model]?.firstIndex(where: { $0.id == id }) else { return nil }
        count -= 1
        return queues[model]?.remove(at: index)
    }

    /// Takes out every request whose deadline is at or before `now`, oldest first per model.
    mutating func removeExpired(at now: NIODeadline) -> [RouterRequest] {
        var expired: [RouterRequest] = []
        for model in waitingModels {
            guard var queue = queues[model], queue.contains(where: { $0.deadline <= now }) else { continue }
            queues[model] = nil  // unshared while filtering
            var kept = CircularBuffer<RouterRequest>(initialCapacity: queue.count)
            while let request = queue.popFirst() {
                if request.deadline <= now { expired.append(request) } else { kept.append(request) }
            }
            queues[model] = kept
        }
        count -= expired.count
        return expired
    }

    /// The requests of `model` in queue order (for tests and logs).
    func requests(of model: String) -> [RouterRequest] { Array(queues[model] ?? []) }
}
