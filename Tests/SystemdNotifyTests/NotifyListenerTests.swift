import Foundation
import SystemdNotify
import Testing

@Suite("sd_notify listener and lifecycle")
struct NotifyListenerTests {
    @Test("the listener receives what a notifier sends, in order, on path and abstract sockets",
          arguments: ["/tmp/specula-listener-", "@specula-listener-"])
    func listenerReceives(prefix: String) async throws {
        let address = try NotifySocketAddress(prefix + UUID().uuidString.prefix(8))
        let listener = try NotifyListener(address: address)
        defer { listener.close() }
        #expect(try listener.poll() == nil)
        let notifier = try SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.environmentValue])
        try notifier.ready(status: "up")
        try notifier.watchdog()
        let first = try #require(try await listener.next(within: .seconds(2)))
        #expect(first["READY"] == "1" && first["STATUS"] == "up")
        #expect(first.assignments.map(\.key) == ["READY", "STATUS"])
        #expect(try await listener.next(within: .seconds(2))?["WATCHDOG"] == "1")
        #expect(try await listener.next(within: .milliseconds(50)) == nil)
        listener.close()
        if address.kind == .path { #expect(!FileManager.default.fileExists(atPath: address.name)) }
        #expect(throws: SystemdNotifyError.self) { try listener.poll() }
    }

    @Test("message parsing keeps order and malformed lines")
    func parsing() {
        let message = NotifyMessage("READY=1\nSTATUS=a=b\nnonsense\nSTATUS=c")
        #expect(message.assignments.map(\.key) == ["READY", "STATUS", "nonsense", "STATUS"])
        #expect(message["STATUS"] == "c", "the last value wins")
        #expect(message.assignments[1].value == "a=b")
        #expect(message["MISSING"] == nil)
    }

    @Test("READY=1 once when first serving, STOPPING=1 once, STATUS= on every change, no way back")
    func lifecycle() {
        var lifecycle = ServiceLifecycle()
        func report(_ phase: ServiceLifecycle.Phase, _ status: String) -> [String] {
            lifecycle.report(phase, status: status).map { "\($0.key)=\($0.value)" }
        }
        #expect(report(.starting, "loading") == ["STATUS=loading"])
        #expect(report(.starting, "loading") == [])
        #expect(report(.starting, "connecting") == ["STATUS=connecting"])
        #expect(report(.serving, "serving 1 of 2") == ["READY=1", "STATUS=serving 1 of 2"])
        #expect(report(.serving, "serving 2 of 2") == ["STATUS=serving 2 of 2"])
        #expect(report(.starting, "connecting") == ["STATUS=connecting"], "lost every router: no un-ready in the protocol")
        #expect(report(.serving, "serving 1 of 2") == ["STATUS=serving 1 of 2"], "READY=1 is not repeated")
        #expect(report(.stopping, "draining") == ["STOPPING=1", "STATUS=draining"])
        #expect(report(.serving, "serving") == ["STATUS=serving"])
        #expect(lifecycle.phase == .stopping)

        var neverReady = ServiceLifecycle()
        #expect(neverReady.report(.stopping, status: "draining").map(\.key) == ["STOPPING", "STATUS"])
        #expect(neverReady.report(.serving, status: "draining").isEmpty, "stopped before serving: never READY=1")
    }

    @Test("a slow start extends its timeout on every report, and only while starting")
    func slowStart() {
        var lifecycle = ServiceLifecycle()
        func progress(_ status: String) -> [String] {
            lifecycle.progress(status: status, allowing: .seconds(300)).map { "\($0.key)=\($0.value)" }
        }
        #expect(progress("measuring: 1%") == ["STATUS=measuring: 1%", "EXTEND_TIMEOUT_USEC=300000000"])
        #expect(progress("measuring: 1%") == ["EXTEND_TIMEOUT_USEC=300000000"], "each extension counts from its arrival")
        #expect(lifecycle.progress(status: "x", allowing: .milliseconds(1500)).last?.value == "1500000")
        #expect(lifecycle.phase == .starting)
        _ = lifecycle.report(.serving, status: "serving")
        #expect(progress("measuring: 2%").isEmpty, "a serving service's timeouts are not stretched, nor its status replaced")
        #expect(lifecycle.status == "serving")
    }
}
