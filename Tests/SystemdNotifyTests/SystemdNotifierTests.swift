import Foundation
import SystemdNotify
import Testing

@Suite("sd_notify sender")
struct SystemdNotifierTests {
    @Test("messages reach a filesystem socket and an abstract one, as newline-separated assignments",
          arguments: [false, true])
    func sendsToARealSocket(abstract: Bool) throws {
        let receiver = try DatagramReceiver(abstract: abstract)
        let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.notifySocket])
        #expect(notifier.isEnabled)
        try notifier.ready(status: "serving: registered with 1 of 1 routers")
        #expect(receiver.receive() == "READY=1\nSTATUS=serving: registered with 1 of 1 routers")
        try notifier.status("two\nlines")
        #expect(receiver.receive() == "STATUS=two lines", "a newline inside a value would start another assignment")
        try notifier.stopping()
        #expect(receiver.receive() == "STOPPING=1")
        try notifier.watchdog()
        #expect(receiver.receive() == "WATCHDOG=1")
    }

    @Test("without NOTIFY_SOCKET every call does nothing")
    func disabledWithoutSocket() throws {
        let notifier = try SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000"])
        #expect(!notifier.isEnabled)
        try notifier.ready()
        try notifier.stopping(status: "x")
        try notifier.watchdog()
        let empty = try SystemdNotifier(environment: ["NOTIFY_SOCKET": ""])
        #expect(!empty.isEnabled)
    }

    @Test("a reader that stops reading makes sends fail at once instead of blocking the sender")
    func fullQueueDoesNotBlock() throws {
        let receiver = try DatagramReceiver(abstract: true)
        let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.notifySocket])
        let start = ContinuousClock.now
        var failure: SystemdNotifyError?
        for _ in 0..<100_000 where failure == nil {
            do throws(SystemdNotifyError) { try notifier.watchdog() } catch { failure = error }
        }
        #expect(failure?.description.contains("sendto failed") == true, "the queue fills and the send says so")
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(receiver.receive() == "WATCHDOG=1", "what was queued is still there")
    }

    @Test("a socket nobody listens on is an error naming it")
    func nobodyListening() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("specula-no-listener-\(UUID().uuidString)").path
        let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": path])
        #expect(throws: SystemdNotifyError.self) { try notifier.ready() }
        do {
            try notifier.ready()
        } catch {
            #expect(error.description.contains(path) && error.description.contains("sendto failed"))
        }
    }

    @Test("NOTIFY_SOCKET forms", arguments: [
        ("/run/systemd/notify", true), ("@/org/freedesktop/systemd1/notify/123", true),
        ("relative/path", false), ("vsock:2:1234", false), ("@", false),
        ("/" + String(repeating: "x", count: 107), false), ("/" + String(repeating: "x", count: 106), true),
    ])
    func addressForms(text: String, valid: Bool) {
        let result = Result { () throws(SystemdNotifyError) in try NotifySocketAddress(text) }
        switch result {
        case .success(let address):
            #expect(valid)
            #expect(address.description == text)
            #expect(address.kind == (text.hasPrefix("@") ? .abstract : .path))
        case .failure(let error):
            #expect(!valid)
            #expect(error.description.contains("NOTIFY_SOCKET"))
        }
    }

    @Test("watchdog pings at half of WATCHDOG_USEC, only for the process WATCHDOG_PID names")
    func watchdogInterval() throws {
        let pid = getpid()
        func interval(_ environment: [String: String]) throws -> Duration? {
            try SystemdNotifier(environment: environment, processID: pid).watchdogInterval
        }
        #expect(try interval(["WATCHDOG_USEC": "30000000"]) == .seconds(15))
        #expect(try interval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(pid)"]) == .seconds(15))
        #expect(try interval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(pid + 1)"]) == nil)
        #expect(try interval(["WATCHDOG_USEC": "0"]) == nil)
        #expect(try interval(["WATCHDOG_USEC": "soon"]) == nil)
        #expect(try interval([:]) == nil)
    }
}
