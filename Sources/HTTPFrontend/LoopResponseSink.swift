import NIOCore

/// A protocol handler that writes responses on its event loop. Each call returns nil when the request
/// or stream `id` is gone (client reset or closed, connection upgraded), which the writer reports as
/// ``HTTPFrontendError/clientGone``.
protocol ResponseTarget: AnyObject, SendableMetatype {
    associatedtype RequestID: Sendable
    func sendHead(_ head: HTTPResponseHead, requestID: RequestID) -> EventLoopFuture<Void>?
    func sendBody(_ chunk: ByteBuffer, requestID: RequestID) -> EventLoopFuture<Void>?
    func sendEnd(requestID: RequestID) -> EventLoopFuture<Void>?
    func sendWhole(_ head: HTTPResponseHead, body: ByteBuffer, requestID: RequestID) -> EventLoopFuture<Void>?
    func abort(requestID: RequestID)
}

/// The ``ResponseSink`` of both protocols: hops from the service's task to the handler's event loop.
struct LoopResponseSink<Target: ResponseTarget>: ResponseSink {
    let target: NIOLoopBound<Target>
    let requestID: Target.RequestID

    func sendHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        let (target, id) = (target, requestID)
        return hop { target.value.sendHead(head, requestID: id) }
    }

    func sendBody(_ chunk: ByteBuffer) -> EventLoopFuture<Void> {
        let (target, id) = (target, requestID)
        return hop { target.value.sendBody(chunk, requestID: id) }
    }

    func sendEnd() -> EventLoopFuture<Void> {
        let (target, id) = (target, requestID)
        return hop { target.value.sendEnd(requestID: id) }
    }

    func sendWhole(_ head: HTTPResponseHead, body: ByteBuffer) -> EventLoopFuture<Void> {
        let (target, id) = (target, requestID)
        return hop { target.value.sendWhole(head, body: body, requestID: id) }
    }

    func abort() {
        let (target, id) = (target, requestID)
        target.eventLoop.execute { target.value.abort(requestID: id) }
    }

    private func hop(_ send: @escaping @Sendable () -> EventLoopFuture<Void>?) -> EventLoopFuture<Void> {
        let loop = target.eventLoop
        if loop.inEventLoop {  // a service task running on the connection's loop
            return send() ?? loop.makeFailedFuture(HTTPFrontendError.clientGone)
        }
        return loop.flatSubmit { send() ?? loop.makeFailedFuture(HTTPFrontendError.clientGone) }
    }
}

extension StreamResponseWriter {
    /// Runs the service for `request` in its own task (on `executor` when given), then ends whatever
    /// response it left open.
    func serve(_ request: HTTPServerRequest, with service: any HTTPService,
               on executor: (any TaskExecutor)?) -> Task<Void, Never> {
        Task(executorPreference: executor) {
            await service.handle(request, response: self)
            await self.finishAfterService()
        }
    }
}
