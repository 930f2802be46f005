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
        #expect(Self.check(&clock, 2500, mayAsk: false) == .silent(for: .milliseconds(2500)))
    }
}
