import Foundation
import ServingTestSupport
import Testing
import Wire

/// What the units' `SystemCallFilter=`, `RestrictAddressFamilies=` and `MemoryDenyWriteExecute=`
/// allow, checked against what the worker and the router really do: each unit's ExecStart runs under
/// `strace -f` (Debian strace, from `.ci/deps`) through start-up, one request and the drain, and
/// every system call it made must be in `@system-service` minus `@privileged` as this systemd
/// defines them (`systemd-analyze syscall-filter`).
@Suite("what the unit hardening allows", .serialized, .timeLimit(.minutes(3)))
struct SyscallFilterTests {
    static let strace = ["/usr/bin/strace", "/bin/strace"].first { FileManager.default.isExecutableFile(atPath: $0) }
    /// ptrace can be forbidden (containers without CAP_SYS_PTRACE): then the trace is truly unavailable.
    static var canTrace: Bool {
        guard let strace, UnitVerifyTests.systemdAnalyze != nil else { return false }
        return (try? InstalledTree.run([strace, "-f", "-qq", "-o", "/dev/null", "/bin/true"]).status) == 0
    }

    @Test("the worker uses only system calls, address families and memory protections its unit allows",
          .enabled(if: canTrace, "strace or systemd-analyze missing, or ptrace not permitted here"))
    func workerStaysInsideItsFilter() async throws {
        let tree = try InstalledTree()
        defer { tree.remove() }
        let router = try await TestRouter.start(token: Array(try tree.workerToken.utf8))
        try tree.appendEnvironment("worker-1.env", ["SPECULA_ROUTER": "127.0.0.1:\(router.port)"])
        try tree.appendEnvironment("worker-1.env", UnitLaunchTests.fastWorker)
        let trace = tree.root.appendingPathComponent("worker.trace").path
        let worker = try LaunchedUnit(tree: tree, unit: "specula-worker@.service", instance: "1",
                                      wrapper: [Self.strace!, "-f", "-qq", "-o", trace])
        defer { worker.kill() }
        let connection = try await router.nextConnection(within: .seconds(120))
        _ = try await connection.acceptRegistration()
        _ = try await worker.waitFor("READY", within: .seconds(60))
        connection.send(.assign(Assignment(requestID: 1, prompt: .text("import os"), sampling: SamplingParameters(temperature: 0),
                                           maxTokens: 16, speculation: .off)))
        _ = try await connection.collect(1)
        worker.terminate()
        #expect(try await worker.waitForExit(within: .seconds(60)) == 0, "\(worker.log)")
        await router.stop()
        try Self.expectInsideTheFilter(trace: trace)
    }

    @Test("the router uses only system calls, address families and memory protections its unit allows",
          .enabled(if: canTrace, "strace or systemd-analyze missing, or ptrace not permitted here"))
    func routerStaysInsideItsFilter() async throws {
        let tree = try InstalledTree()
        defer { tree.remove() }
        try tree.appendEnvironment("router.env", ["SPECULA_LISTEN": "127.0.0.1:0", "SPECULA_WORKER_LISTEN": "127.0.0.1:0"])
        let trace = tree.root.appendingPathComponent("router.trace").path
        let router = try LaunchedUnit(tree: tree, unit: "specula-router.service", wrapper: [Self.strace!, "-f", "-qq", "-o", trace])
        defer { router.kill() }
        let (httpPort, workerPort) = try UnitLaunchTests.ports(try await router.waitFor("READY", within: .seconds(120))["STATUS"] ?? "")
        try tree.appendEnvironment("worker-1.env", ["SPECULA_ROUTER": "127.0.0.1:\(workerPort)"])
        try tree.appendEnvironment("worker-1.env", UnitLaunchTests.fastWorker)
        let worker = try LaunchedUnit(tree: tree, unit: "specula-worker@.service", instance: "1")
        defer { worker.kill() }
        _ = try await worker.waitFor("READY", within: .seconds(120))
        let response = try Curl.request("http://127.0.0.1:\(httpPort)/v1/completions", json: UnitLaunchTests.completion(maxTokens: 16, stream: true),
                                        version: .http2PriorKnowledge, headers: ["authorization: Bearer \(try tree.apiKey)"], maxTime: 30)
        #expect(response.status == 200 && SSEBody.events(response.body).last == "[DONE]", "\(response.body)")
        router.terminate()
        #expect(try await router.waitForExit(within: .seconds(60)) == 0, "\(router.log)")
        try Self.expectInsideTheFilter(trace: trace)
    }

    /// Every system call, socket family and memory protection in an `strace -f` output is one the
    /// units' filters allow.
    static func expectInsideTheFilter(trace: String) throws {
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        let used = Set(lines.compactMap(Self.syscallName))
        #expect(used.count > 20, "the trace holds the service's calls")
        let allowed = try Self.allowedSyscalls()
        let refused = used.subtracting(allowed).sorted()
        #expect(refused.isEmpty, "outside @system-service ~@privileged: \(refused)")
        let families = Set(lines.compactMap(Self.socketFamily))
        #expect(families.isSubset(of: ["AF_UNIX", "AF_INET", "AF_INET6"]), "address families used: \(families.sorted())")
        let writableCode = lines.filter { line in
            (line.contains(" mmap(") && line.contains("PROT_WRITE") && line.contains("PROT_EXEC"))
                || (line.contains(" mprotect(") && line.contains("PROT_EXEC"))
        }
        #expect(writableCode.isEmpty, "MemoryDenyWriteExecute would refuse: \(writableCode.prefix(3))")
    }

    /// `1234  openat(AT_FDCWD, ...) = 3` → `openat`.
    static func syscallName(_ line: Substring) -> String? {
        let parts = line.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let call = parts[1].drop { $0 == " " }  // strace pads the PID column
        guard let open = call.firstIndex(of: "(") else { return nil }
        let name = call[..<open]
        return !name.isEmpty && name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) ? String(name) : nil
    }

    static func socketFamily(_ line: Substring) -> String? {
        guard let range = line.range(of: " socket(") else { return nil }
        return line[range.upperBound...].split(separator: ",").first.map(String.init)
    }

    /// `@system-service` with its groups expanded, minus `@privileged` expanded.
    static func allowedSyscalls() throws -> Set<String> {
        let listing = try InstalledTree.run([UnitVerifyTests.systemdAnalyze!, "syscall-filter"]).output
        var groups: [String: [String]] = [:]
        var current: String?
        for line in listing.split(separator: "\n") {
            if line.hasPrefix("@") {
                current = String(line)
                groups[String(line)] = []
            } else if let group = current {
                let entry = line.trimmingCharacters(in: .whitespaces)
                if !entry.isEmpty && !entry.hasPrefix("#") { groups[group]!.append(entry) }
            }
        }
        func expand(_ name: String, _ seen: inout Set<String>) -> Set<String> {
            guard seen.insert(name).inserted else { return [] }
            var result: Set<String> = []
            for entry in groups[name] ?? [] {
                result.formUnion(entry.hasPrefix("@") ? expand(entry, &seen) : [entry])
            }
            return result
        }
        var seen: Set<String> = []
        let service = expand("@system-service", &seen)
        seen = []
        let privileged = expand("@privileged", &seen)
        guard service.count > 100 else { throw ProcessError("could not read @system-service from systemd-analyze:\n\(listing.prefix(500))") }
        return service.subtracting(privileged)
    }
}
