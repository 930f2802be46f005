import Foundation
import ServingTestSupport
import SystemdNotify
import Testing

/// A worker's first start on a machine builds the datastore and measures the step-cost curve: seconds
/// for the bundled model, minutes for a large one, longer than `TimeoutStartSec=` allows without word.
/// Two worker units started together on an empty cache: one builds and measures while the other waits
/// for it, and each says how far it got (`STATUS=`) and asks for more time (`EXTEND_TIMEOUT_USEC=`).
@Suite("the first start of speculating workers", .serialized, .timeLimit(.minutes(3)))
struct FirstStartTests {
    @Test("two workers on an empty cache: one datastore build and one measurement between them, progress and timeout extensions while starting")
    func twoWorkersShareOneFirstStart() async throws {
        let tree = try InstalledTree(workers: 2)
        defer { tree.remove() }
        let router = try await TestRouter.start(token: Array(try tree.workerToken.utf8))
        for instance in 1...2 {
            try tree.appendEnvironment("worker-\(instance).env", [
                "SPECULA_ROUTER": "127.0.0.1:\(router.port)", "SPECULA_THREADS": "1", "SPECULA_KV_CACHE_MB": "16",
                "SPECULA_ASSETS": InstalledTree.smallCorpusAssets,
            ])
        }
        let workers = try (1...2).map { try LaunchedUnit(tree: tree, unit: "specula-worker@.service", instance: "\($0)") }
        defer { workers.forEach { $0.kill() } }
        let registering = Task {
            var speculating = 0
            for _ in 1...2 {
                let connection = try await router.nextConnection(within: .seconds(120))
                if try await connection.acceptRegistration().register.supportsSpeculation { speculating += 1 }
            }
            return speculating
        }
        for worker in workers { _ = try await worker.waitFor("READY", within: .seconds(120)) }
        #expect(try await registering.value == 2)
        for worker in workers { #expect(worker.count("READY") == 1, "\(worker.name): \(worker.log)") }

        let logs = workers.map(\.log)
        func count(_ text: String) -> Int { logs.reduce(0) { $0 + $1.components(separatedBy: text).count - 1 } }
        #expect(count("building the datastore for") == 1, "\(logs)")
        #expect(count("measuring this machine's step cost") == 1, "\(logs)")
        // One worker may build the datastore and the other measure the curve: each takes its own lock.
        func statuses(ofTheOneThatLogged text: String) throws -> [String] {
            try #require(workers.first { $0.log.contains(text) }).notifications.compactMap { $0["STATUS"] }
        }
        let building = try statuses(ofTheOneThatLogged: "building the datastore for")
        let measuring = try statuses(ofTheOneThatLogged: "measuring this machine's step cost")
        #expect(building.contains("building the datastore: 100%"), "\(building)")
        #expect(measuring.contains("measuring the step cost: 100%"), "\(measuring)")
        for worker in workers {
            // Every progress report, a wait's included, asks for more time, and none once serving.
            for message in worker.notifications where message["STATUS"].map({ $0.contains("%") || $0.hasPrefix("waiting for") }) == true {
                #expect(message["EXTEND_TIMEOUT_USEC"] == "300000000", "\(worker.name): \(message)")
            }
            #expect(!worker.notifications.contains { $0["EXTEND_TIMEOUT_USEC"] != nil && $0["READY"] != nil },
                    "no extension once serving")
        }
        await router.stop()
    }
}
