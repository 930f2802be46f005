import NIOCore
import Testing
import Wire
@testable import WorkerCore

@Suite struct ConnectionStateTests {
    let register = Register(modelID: "m", contextLength: 64, maxBatchSequences: 4, kvCapacityTokens: 256,
                            maxPromptTokens: 63, maxOutputTokens: 63, supportsSpeculation: false)

    private func registered() -> ConnectionState {
        var state = ConnectionState()
        let started = state.startConnecting()
        #expect(started)
        state.connected()
        let registerFrame = state.authenticated(register)
        #expect(registerFrame == .register(register))
        let outcome = state.registration(Registration(accepted: true))
        #expect(outcome == .accepted)
        return state
    }

    @Test func phasesRunInOrder() {
        var state = ConnectionState()
        #expect(state.phase == .disconnected)
        let started = state.startConnecting()
        #expect(started)
        let started2 = state.startConnecting()
        #expect(!started2)
        #expect(state.phase == .connecting)
        let registerFrame = state.authenticated(register)
        #expect(registerFrame == nil, "no register before TCP and the handshake")
        state.connected()
        #expect(state.phase == .handshaking)
        let creditsFrame = state.grant(3)
        #expect(creditsFrame == nil, "no credits before registration")
        _ = state.authenticated(register)
        #expect(state.phase == .registering)
        let outcome = state.registration(Registration(accepted: true))
        #expect(outcome == .accepted)
        #expect(state.phase == .registered)
        #expect(state.acceptsWork)
    }

    @Test func secondRegistrationIsAViolation() {
        var state = registered()
        guard case .violation(let error) = state.registration(Registration(accepted: true)) else {
            Issue.record("expected a violation")
            return
        }
        #expect(error.code == .unexpectedFrame)
    }

    @Test func refusedRegistrationKeepsTheWorkerOut() {
        var state = ConnectionState()
        _ = state.startConnecting()
        state.connected()
        _ = state.authenticated(register)
        let outcome = state.registration(Registration(accepted: false, reason: "wrong model"))
        #expect(outcome == .refused(reason: "wrong model"))
        #expect(!state.acceptsWork)
    }

    @Test func assignmentsSpendCredits() {
        var state = registered()
        let creditsFrame = state.grant(2)
        #expect(creditsFrame == .credits(Credits(count: 2)))
        let decision = state.assign(1)
        #expect(decision == .run)
        let decision2 = state.assign(1)
        #expect(decision2 != .run, "a duplicate id is refused")
        let decision3 = state.assign(2)
        #expect(decision3 == .run)
        #expect(state.credits == 0)
        guard case .refuse(let message) = state.assign(3) else {
            Issue.record("an assignment without credit must be refused")
            return
        }
        #expect(message.contains("without credit"))
        #expect(state.requests == [1, 2])
        #expect(state.owns(2) && !state.owns(3))
        let closeNow = state.finished(1)
        #expect(!closeNow)
        #expect(state.requests == [2])
    }

    @Test func assignBeforeRegistrationIsAViolation() {
        var state = ConnectionState()
        _ = state.startConnecting()
        state.connected()
        guard case .violation(let error) = state.assign(7) else {
            Issue.record("expected a violation")
            return
        }
        #expect(error.code == .unexpectedFrame)
    }

    @Test func drainVoidsCreditsAndClosesWhenEmpty() {
        var state = registered()
        _ = state.grant(3)
        let decision = state.assign(9)
        #expect(decision == .run)
        let outcome = state.drain(reason: "SIGTERM")
        #expect(outcome == ConnectionState.DrainOutcome(message: .drain(Drain(reason: "SIGTERM")), voidedCredits: 2, closeNow: false))
        #expect(state.phase == .draining)
        let creditsFrame = state.grant(1)
        #expect(creditsFrame == nil)
        guard case .refuse = state.assign(10) else {
            Issue.record("a draining worker refuses new work")
            return
        }
        let closeNow = state.finished(9)
        #expect(closeNow, "the last request out closes a draining connection")
        let closed = state.disconnected()
        #expect(closed.retryAfter == nil)
        #expect(state.phase == .stopped)
        let started = state.startConnecting()
        #expect(!started)
    }

    @Test func drainBeforeRegistrationStops() {
        var state = ConnectionState()
        _ = state.startConnecting()
        let outcome = state.drain(reason: "SIGTERM")
        #expect(outcome.message == nil && outcome.closeNow)
        #expect(state.phase == .stopped)
    }

    @Test func disconnectOrphansRequestsAndBacksOff() {
        var state = registered()
        _ = state.grant(4)
        _ = state.assign(5)
        _ = state.assign(6)
        let first = state.disconnected()
        #expect(first.orphaned == [5, 6])
        #expect(first.voidedCredits == 2)
        #expect(first.retryAfter == .milliseconds(100))
        #expect(state.phase == .disconnected && state.credits == 0 && state.requests.isEmpty)
        _ = state.startConnecting()
        let disconnect = state.disconnected()
        #expect(disconnect.retryAfter == .milliseconds(200), "a failed attempt doubles the delay")
        _ = state.startConnecting()
        state.connected()
        _ = state.authenticated(register)
        _ = state.registration(Registration(accepted: true))
        #expect(state.failedAttempts == 0, "a registration resets the backoff")
    }

    @Test func backoffDoublesUpToTheCap() {
        let backoff = Backoff(base: .milliseconds(100), max: .seconds(1))
        #expect((1...6).map { backoff.delay(attempt: $0) } == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1),
        ])
        #expect(backoff.delay(attempt: 1000) == .seconds(1))
    }
}

@Suite struct CreditLedgerTests {
    @Test func freeRoomCountsInFlightAndOutstanding() {
        #expect(CreditLedger.freeRoom(capacity: 8, inFlight: 3, outstandingCredits: [2, 1]) == 2)
        #expect(CreditLedger.freeRoom(capacity: 2, inFlight: 3, outstandingCredits: [0]) == 0)
    }

    @Test func distributesEvenly() {
        #expect(CreditLedger.distribute(free: 4, holdings: [0, 0]) == [2, 2])
        #expect(CreditLedger.distribute(free: 3, holdings: [2, 0]) == [1, 2], "fewest first, the earliest on ties")
        #expect(CreditLedger.distribute(free: 3, holdings: [1, 0]) == [1, 2])
        #expect(CreditLedger.distribute(free: 1, holdings: [3, 3, 2]) == [0, 0, 1])
        #expect(CreditLedger.distribute(free: 0, holdings: [0, 0]) == [0, 0])
        #expect(CreditLedger.distribute(free: 5, holdings: []) == [])
    }
}

@Suite struct RouterAddressTests {
    @Test func parsesLists() throws {
        #expect(try RouterAddress.parseList("a:1,127.0.0.1:9090") == [RouterAddress(host: "a", port: 1), RouterAddress(host: "127.0.0.1", port: 9090)])
        #expect(try RouterAddress.parse("[::1]:9090") == RouterAddress(host: "::1", port: 9090))
        #expect(throws: WorkerError.self) { try RouterAddress.parseList("a:1,") }
        #expect(throws: WorkerError.self) { try RouterAddress.parse("host") }
        #expect(throws: WorkerError.self) { try RouterAddress.parse("host:70000") }
    }
}

