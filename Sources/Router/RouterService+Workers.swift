import NIOCore
import Wire

// Worker connections: called by `WorkerChannelHandler` on the service's loop.
extension RouterService {
    func connectionOpened(_ channel: any Channel) -> WorkerID {
        loop.preconditionInEventLoop()
        let id = makeWorkerID()
        connections[id] = WorkerConnection(id: id, channel: channel, now: .now())
        logger.debug("worker connected", metadata: ["connection": "\(id)", "peer": "\(channel.remoteAddress?.description ?? "?")"])
        return id
    }

    func authenticated(_ id: WorkerID, name: String) {
        guard let connection = connections[id] else { return }
        connection.name = name
        connection.liveness.received(at: .now())
        logger.debug("worker authenticated", metadata: ["worker": "\(name)", "connection": "\(id)"])
    }

    func received(_ message: WireMessage, from id: WorkerID) {
        guard let connection = connections[id] else { return }
        let now = NIODeadline.now()
        connection.liveness.received(at: now)
        switch message {
        case .register(let register):
            let name = connection.name ?? "\(id)"
            let actions = state.register(id, name: name, register)
            if state.pool[id] != nil {
                connection.registered = true
                metrics.workers.set(Double(state.pool.workers.count))
                logger.info("worker registered", metadata: [
                    "worker": "\(name)", "model": "\(register.modelID)", "context": "\(register.contextLength)",
                    "max_batch": "\(register.maxBatchSequences)", "speculation": "\(register.supportsSpeculation)",
                ])
            } else {
                logger.warning("worker refused", metadata: ["worker": "\(name)", "model": "\(register.modelID)"])
            }
            perform(actions)
        case .credits(let credits):
            perform(state.credits(id, credits.count, now: now))
        case .tokens(let event):
            perform(state.tokens(id, event))
        case .finish(let finish):
            perform(state.finish(id, finish, now: now))
        case .tokenization(let result):
            answered(result, by: id)
        case .drain(let drain):
            logger.info("worker draining", metadata: ["worker": "\(connection.label)", "reason": "\(drain.reason)"])
            state.drain(id)
            perform([])
        case .heartbeat:
            break
        case .error(let error):
            if let requestID = error.requestID {
                let finish = Finish(requestID: requestID, reason: .error, promptTokens: 0, completionTokens: 0, errorMessage: error.message)
                perform(state.finish(id, finish, now: now))
                answered(TokenizationResult(requestID: requestID, errorMessage: error.message), by: id)
            } else {
                connection.closeReason = "worker error \(error.code): \(error.message)"
                logger.warning("worker reported an error", metadata: ["worker": "\(connection.label)", "code": "\(error.code)", "message": "\(error.message)"])
            }
        default:
            // WireSessionHandler lets only worker-sent types through; anything else is a bug there.
            connection.fail(WireError(.unexpectedFrame, "router received \(message.type), which only a router sends"))
        }
    }

    func connectionError(_ id: WorkerID, _ error: any Error) {
        guard let connection = connections[id] else { return }
        connection.closeReason = connection.closeReason ?? "\(error)"
        if let wire = error as? WireError, wire.code == .authenticationFailed {
            logger.error("worker failed authentication; connection refused", metadata: [
                "peer": "\(connection.channel.remoteAddress?.description ?? "?")", "reason": "\(wire.message)",
            ])
        }
    }

    /// The connection is gone: a registered worker's requests fail over to the others.
    func connectionClosed(_ id: WorkerID) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        let reason = connection.closeReason ?? "closed by the worker"
        guard connection.registered else {
            logger.debug("worker connection closed", metadata: ["connection": "\(id)", "reason": "\(reason)"])
            return
        }
        let running = state.pool[id]?.running.count ?? 0
        logger.log(level: running > 0 ? .warning : .info, "worker lost", metadata: [
            "worker": "\(connection.label)", "reason": "\(reason)", "requests_resumed": "\(running)",
        ])
        perform(state.workerLost(id, now: .now()))
        metrics.workers.set(Double(state.pool.workers.count))
        workerGone(id)
    }

    /// Sends heartbeats, drops silent workers and connections that never authenticated.
    func checkLiveness(now: NIODeadline) {
        for connection in connections.values {
            if connection.name == nil, now - connection.opened > configuration.handshakeTimeout {
                connection.fail(WireError(.heartbeatTimeout, "no handshake completed within \(configuration.handshakeTimeout.nanoseconds / 1_000_000) ms"))
                continue
            }
            switch connection.liveness.check(now: now, interval: configuration.heartbeatInterval,
                                             timeout: configuration.heartbeatTimeout, mayAsk: connection.name != nil) {
            case .quiet:
                break
            case .ask(let heartbeat):
                connection.send(.heartbeat(heartbeat))
            case .silent(let silence):
                logger.warning("worker silent; dropping it", metadata: ["worker": "\(connection.label)", "silent_ms": "\(silence.nanoseconds / 1_000_000)"])
                connection.fail(WireError(.heartbeatTimeout, "nothing received from worker '\(connection.label)' for \(silence.nanoseconds / 1_000_000) ms; expected a frame at least every \(configuration.heartbeatTimeout.nanoseconds / 1_000_000) ms"))
            }
        }
    }
}
