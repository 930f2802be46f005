import CKernels
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed pool of compute threads, reused by every call; a call allocates nothing.
///
/// `parallelFor` publishes a job (a non-escaping closure and an index count); the caller and any
/// worker that joins in time claim indices from a shared counter until none are left. Workers spin
/// briefly between jobs (a forward pass issues them back to back), then sleep on a condition
/// variable. A worker that wakes after the caller has claimed every index simply skips the job, so a
/// core taken by another process never stalls a call. One caller at a time: a nested or concurrent
/// call runs its indices serially on the calling thread.
public final class ComputePool: @unchecked Sendable {
    /// Threads working on a call, the caller included.
    public let threadCount: Int

    /// The number of online CPUs (at least 1): the usual pool size.
    public static var defaultThreadCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
    private let state: PoolState
    private var threads: [pthread_t] = []

    /// - Parameters:
    ///   - threads: total threads including the caller (usually the number of cores); at least 1.
    ///   - spinMicroseconds: how long an idle worker polls for the next job before sleeping.
    public init(threads: Int, spinMicroseconds: Int = 500) {
        threadCount = max(1, threads)
        state = PoolState(workers: threadCount - 1, spinNanoseconds: UInt64(max(0, spinMicroseconds)) * 1000)
        for worker in 1..<threadCount {
            let context = Unmanaged.passRetained(WorkerContext(state: state, worker: worker)).toOpaque()
            var thread = pthread_t()
            let result = pthread_create(&thread, nil, { raw in
                #if canImport(Darwin)
                let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
                #else
                guard let raw else { return nil }
                let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
                #endif
                context.state.workerLoop(worker: context.worker)
                return nil
            }, context)
            precondition(result == 0, "ComputePool: pthread_create failed with \(result)")
            self.threads.append(thread)
        }
    }

    deinit {
        state.shutdown()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Runs `body(i)` for every `i` in `0..<count` exactly once, spread over the pool's threads
    /// (the calling thread included); returns when all have finished.
    public func parallelFor(_ count: Int, _ body: (_ index: Int) -> Void) {
        parallelFor(count) { index, _ in body(index) }
    }

    /// Like `parallelFor(_:_:)`, also passing which thread runs the index (`0..<threadCount`, the
    /// caller is 0), so the body can use per-thread scratch space.
    public func parallelFor(_ count: Int, _ body: (_ index: Int, _ thread: Int) -> Void) {
        guard count > 0 else { return }
        guard count > 1, threadCount > 1, state.tryAcquire() else {
            for i in 0..<count { body(i, 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            state.run(count: count, body: escapable)
        }
        state.release()
    }
}

private final class WorkerContext {
    let state: PoolState
    let worker: Int
    init(state: PoolState, worker: Int) {
        self.state = state
        self.worker = worker
    }
}

/// Shared between the pool and its threads (the threads keep it alive until they exit).
private final class PoolState: @unchecked Sendable {
    typealias Body = (Int, Int) -> Void

    private static let closedBit = 1 << 40
    let workers: Int
    let spinNanoseconds: UInt64
    /// Bumped once per job; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// Workers that joined the current job, plus `closedBit` once the caller stops admitting them.
    private let admission = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let nextIndex = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    // Written by the caller before `admission` is reset and `generation` bumped; read by workers only
    // while admitted, so the atomics order every access.
    private var body: Body?
    private var count = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(workers: Int, spinNanoseconds: UInt64) {
        self.workers = workers
        self.spinNanoseconds = spinNanoseconds
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(condition)
        mutex.deallocate()
        condition.deallocate()
    }

    func tryAcquire() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    func release() { busy.store(false, ordering: .releasing) }

    func run(count: Int, body: @escaping Body) {
        self.body = body
        self.count = count
        nextIndex.store(0, ordering: .sequentiallyConsistent)
        finished.store(0, ordering: .sequentiallyConsistent)
        admission.store(0, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 { broadcast() }
        claim(body: body, thread: 0)
        let joined = admission.bitwiseOr(Self.closedBit, ordering: .sequentiallyConsistent).oldValue
        while finished.load(ordering: .sequentiallyConsistent) < joined { ck_cpu_relax() }
        self.body = nil
    }

    private func claim(body: Body, thread: Int) {
        while true {
            let i = nextIndex.add(1, ordering: .relaxed).oldValue
            if i >= count { return }
            body(i, thread)
        }
    }

    private func broadcast() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    func shutdown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        broadcast()
    }

    func workerLoop(worker: Int) {
        var seen = 0
        while true {
            seen = waitForJob(after: seen)
            if stopping.load(ordering: .sequentiallyConsistent) { return }
            join(worker: worker)
        }
    }

    /// Takes part in the current job if the caller still admits workers.
    private func join(worker: Int) {
        var current = admission.load(ordering: .sequentiallyConsistent)
        while current & Self.closedBit == 0 {
            let (exchanged, original) = admission.compareExchange(
                expected: current, desired: current + 1, ordering: .sequentiallyConsistent)
            if exchanged {
                if let body { claim(body: body, thread: worker) }
                finished.add(1, ordering: .sequentiallyConsistent)
                return
            }
            current = original
        }
    }

    /// Spins, then sleeps, until `generation` differs from `seen`; returns the new value.
    private func waitForJob(after seen: Int) -> Int {
        let start = monotonicNanoseconds()
        var spins = 0
        while true {
            let now = generation.load(ordering: .sequentiallyConsistent)
            if now != seen { return now }
            spins += 1
            if spins & 255 != 0 || monotonicNanoseconds() - start < spinNanoseconds {
                ck_cpu_relax()
                continue
            }
            pthread_mutex_lock(mutex)
            sleepers.add(1, ordering: .sequentiallyConsistent)
            while generation.load(ordering: .sequentiallyConsistent) == seen {
                pthread_cond_wait(condition, mutex)
            }
            sleepers.subtract(1, ordering: .sequentiallyConsistent)
            pthread_mutex_unlock(mutex)
        }
    }
}

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
