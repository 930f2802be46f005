import NIOCore
import Testing
import Wire

struct HeartbeatClockTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static let interval = TimeAmount.milliseconds(200)
    static let timeout = TimeAmount.milliseconds(2000)

    static func at(_ milliseconds: Int64) -> NIODeadline { start + .milliseconds(milliseconds) }

    static func check(_ clock: inout HeartbeatClock, _ milliseconds: Int64, mayAsk: Bool = true) -> HeartbeatClock.Verdict {
        clock.check(now: at(milliseconds), interval: interval, timeout: timeout, mayAsk: mayAsk)
    }

    @Test func anIdleSideAsksOncePerInterval() {
        var clock = HeartbeatClock(now: Self.start)
        #expect(Self.check(&clock, 100) == .quiet)
        #expect(Self.check(&clock, 200) == .ask(Heartbeat(sequence: 1)))
        clock.received(at: Self.at(210))  // the reply
        #expect(Self.check(&clock, 300) == .quiet)
        #expect(Self.check(&clock, 400) == .ask(Heartbeat(sequence: 2)))
    }

    /// A side that streams never goes idle; against a peer that only answers it must still ask.
    @Test func aSideThatKeepsSendingStillAsksWhenItHearsNothing() {
        var clock = HeartbeatClock(now: Self.start)
        var asked: [Int64] = []
        for now in stride(from: Int64(50), through: 1000, by: 50) {
            clock.sent(at: Self.at(now))
            if case .ask = Self.check(&clock, now) {
                asked.append(now)
                clock.received(at: Self.at(now + 10))
            }
        }
        #expect(asked == [200, 450, 700, 950], "one request per interval of silence, answered each time")
    }

    @Test func aPeerSilentForTheTimeoutIsDeadEvenWhileThisSideSends() {
        var clock = HeartbeatClock(now: Self.start)
        for now in stride(from: Int64(50), through: 2000, by: 50) {
            clock.sent(at: Self.at(now))
            if case .silent = Self.check(&clock, now) { Issue.record("dead before the timeout, at \(now) ms") }
        }
        #expect(Self.check(&clock, 2001) == .silent(for: .milliseconds(2001)))
    }

    @Test func beforeTheHandshakeNothingIsAskedButTheTimeoutHolds() {
        var clock = HeartbeatClock(now: Self.start)
        #expect(Self.check(&clock, 500, mayAsk: false) == .quiet)
        #expect(Self.check(&clock, 1500, mayAsk: false) == .quiet)
        #expect(Self.check(&clock, 2500, mayAsk: false) == .silent(for: .milliseconds(2500)))
    }

    /// A tick long after the last one: this process was not running, and the peer's frames may be
    /// waiting unread. That tick excuses the silence; the next one judges it.
    @Test func aTickAfterThisSideWasFrozenWaitsForTheReadsBeforeItJudges() {
        var clock = HeartbeatClock(now: Self.start)
        #expect(Self.check(&clock, 50) == .quiet)
        // Frozen from 50 ms to 6500 ms; on waking the tick runs before the queued heartbeats are read.
        #expect(Self.check(&clock, 6500) == .quiet)
        clock.received(at: Self.at(6501))
        #expect(Self.check(&clock, 6550) == .ask(Heartbeat(sequence: 1)), "alive, and this side has been idle")

        // Frozen again, and the peer really is gone: the tick after the late one judges.
        #expect(Self.check(&clock, 12000) == .quiet)
        #expect(Self.check(&clock, 12050) == .silent(for: .milliseconds(12050 - 6501)))
        // Two late ticks in a row: only the first is excused.
        var starved = HeartbeatClock(now: Self.start)
        #expect(Self.check(&starved, 3000) == .quiet)
        #expect(Self.check(&starved, 6000) == .silent(for: .milliseconds(6000)))
    }
}
