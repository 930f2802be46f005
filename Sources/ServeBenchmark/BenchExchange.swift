import NIOCore
import NIOHTTP1
import Synchronization

/// One request on a connection and what to do with its response: stream it into a
/// ``CompletionStream``, or collect the whole body (small JSON answers such as `/v1/models`).
struct BenchExchange: Sendable {
    enum Mode: Sendable {
        case stream(CompletionStream)
        case collect
    }

    let head: HTTPRequestHead
    let body: ByteBuffer?
    var mode: Mode
    /// Time zero of the benchmark; record times are seconds since it.
    let start: NIODeadline
    let timeout: TimeAmount
    let outcome: OutcomeOnce
}

/// The exchange's result, completed once by whoever knows first (the handler at the end of the
/// response, or the writer when the request never reached the connection).
final class OutcomeOnce: Sendable {
    private let promise: EventLoopPromise<ExchangeOutcome>
    private let completed = Atomic<Bool>(false)

    init(on loop: any EventLoop) {
        promise = loop.makePromise()
    }

    var future: EventLoopFuture<ExchangeOutcome> { promise.futureResult }

    func complete(_ outcome: ExchangeOutcome) {
        guard !completed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        promise.succeed(outcome)
    }
}

struct ExchangeOutcome: Sendable {
    /// The finished record (stream mode).
    var record: RequestRecord?
    var status: Int?
    /// The body (collect mode).
    var body: ByteBuffer?
    var failure: String?
    /// The connection may carry another request.
    var reusable: Bool
}

/// The connection's one handler above NIO's HTTP/1.1 client codec: writes an exchange's request,
/// stamps each piece of the response with its arrival and feeds it to the exchange, completes the
/// exchange's promise at the end of the response (or when the connection fails or times out).
final class BenchExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = BenchExchange
    typealias OutboundOut = HTTPClientRequestPart

    private var current: BenchExchange?
    private var status: Int?
    private var collected: ByteBuffer?
    private var keepAlive = true
    private var deadline: Scheduled<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard current == nil else {
            exchange.outcome.complete(ExchangeOutcome(failure: "a connection runs one request at a time", reusable: false))
            promise?.fail(BenchError("a connection runs one request at a time"))
            return
        }
        current = exchange
        status = nil
        collected = nil
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
        let timeout = exchange.timeout
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.finish(failure: "no complete response within \(timeout.nanoseconds / 1_000_000_000) s")
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard var exchange = current else { return }
        let now = Self.seconds(since: exchange.start)
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            keepAlive = head.isKeepAlive
            if case .stream(var stream) = exchange.mode {
                stream.receive(status: Int(head.status.code))
                exchange.mode = .stream(stream)
            }
        case .body(var buffer):
            switch exchange.mode {
            case .stream(var stream):
                stream.receive(buffer.readableBytesView, at: now)
                exchange.mode = .stream(stream)
            case .collect:
                if collected == nil { collected = buffer } else { collected!.writeBuffer(&buffer) }
            }
        case .end:
            current = exchange
            finish(failure: nil)
            return
        }
        current = exchange
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(failure: "the server closed the connection before the response ended")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .invalidEOFState? = error as? HTTPParserError {
            finish(failure: "the server closed the connection before the response ended")
        } else {
            finish(failure: "\(error)")
        }
        context.close(promise: nil)
    }

    private func finish(failure: String?) {
        guard let exchange = current else { return }
        current = nil
        deadline?.cancel()
        deadline = nil
        let now = Self.seconds(since: exchange.start)
        var outcome = ExchangeOutcome(status: status, failure: failure, reusable: failure == nil && keepAlive)
        switch exchange.mode {
        case .stream(var stream): outcome.record = stream.end(at: now, failure: failure)
        case .collect: outcome.body = collected
        }
        exchange.outcome.complete(outcome)
    }

    static func seconds(since start: NIODeadline) -> Double {
        Double((NIODeadline.now() - start).nanoseconds) / 1e9
    }
}

@available(*, unavailable) extension BenchExchangeHandler: Sendable {}
