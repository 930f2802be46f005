public import NIOCore

/// Where each request's service task runs.
public enum ServiceExecution: Sendable, Equatable {
    /// On Swift's global concurrent executor; writer calls hop to the connection's event loop. A
    /// service may block or compute without holding up any connection's I/O.
    case globalExecutor
    /// On the connection's event loop (the task's executor preference): writer calls need no thread
    /// hop, which suits light services best (h2load `/health`: see the measurements in the report).
    /// Blocking or CPU-heavy work in the service then stalls the other connections on that loop, and
    /// tasks still running when the event loop group shuts down never finish.
    case connectionEventLoop
}

/// Runs tasks' jobs on one event loop, for ``ServiceExecution/connectionEventLoop``.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
