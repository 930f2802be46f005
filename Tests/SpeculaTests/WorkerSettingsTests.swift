import ArgumentParser
import Foundation
import ServiceSettings
@testable import specula
import Testing

@Suite("specula worker settings")
struct WorkerSettingsTests {
    static let samples: [String: String] = [
        "router": "a:1,b:2", "model": "/m", "name": "w1", "datastore": "/d.sssd", "speculate": "off", "threads": "3",
        "kv-cache-mb": "64", "max-running": "5", "worker-token-file": "/t", "heartbeat-interval-ms": "100",
        "heartbeat-timeout-ms": "900", "reconnect-max-ms": "700", "log-level": "debug", "activations": "bf16",
    ]

    @Test("every setting is a flag of the same name, and every flag given reaches the settings")
    func flagsMatchTheSchema() throws {
        #expect(Set(WorkerSettings.schema.keys.map(\.name)) == Set(Self.samples.keys))
        for key in WorkerSettings.schema.keys {
            let value = try #require(Self.samples[key.name])
            let command = try Worker.parse([key.flag, value])
            #expect(command.givenFlags == [key.name: value], "\(key.flag)")
        }
        #expect(try Worker.parse([]).givenFlags.isEmpty)
    }

    @Test("the sample value of every key passes its check, in a file and in the environment")
    func samplesAreValid() throws {
        let text = Self.samples.map { "\($0.key) = \($0.value)" }.joined(separator: "\n")
        let file = try SettingsFile(path: "worker.conf", text: text)
        let fromFile = try ResolvedSettings(schema: WorkerSettings.schema, flags: [:], environment: [:], file: file)
        let environment = Dictionary(uniqueKeysWithValues: WorkerSettings.schema.keys.map { ($0.environmentName, Self.samples[$0.name]!) })
        let fromEnvironment = try ResolvedSettings(schema: WorkerSettings.schema, flags: [:], environment: environment, file: nil)
        for key in WorkerSettings.schema.keys {
            #expect(fromFile.string(key.name) == Self.samples[key.name])
            #expect(fromEnvironment.string(key.name) == Self.samples[key.name])
        }
    }

    @Test("Deploy/configuration.md lists every worker key with its variable")
    func documented() throws {
        let doc = try String(contentsOf: SpeculaProcess.packageRoot.appendingPathComponent("Deploy/configuration.md"), encoding: .utf8)
        for key in WorkerSettings.schema.keys {
            #expect(doc.contains("`\(key.name)`") && doc.contains("`\(key.environmentName)`"), "\(key.name) undocumented")
        }
    }

    @Test("a bad value in the config file stops the worker with one line naming the file, line, key and allowed values")
    func badFileValue() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("specula-worker-conf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("worker.conf").path
        try "# test\nrouter = 127.0.0.1:9\nspeculate = sometimes\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try SpeculaProcess.run(["worker", "--config", path])
        #expect(result.status != 0)
        #expect(result.stderr == "error: \(path):3: speculate = 'sometimes': expected one of on, off\n")

        let shown = try SpeculaProcess.run(["worker", "--show-config", "--kv-cache-mb", "64"],
                                           environment: ["SPECULA_CONFIG": path, "SPECULA_SPECULATE": "off", "SPECULA_MAX_RUNNING": "3"])
        #expect(shown.status != 0, "the file's bad value is an error even though SPECULA_SPECULATE overrides it")
        try "router = 127.0.0.1:9\nspeculate = on\n".write(toFile: path, atomically: true, encoding: .utf8)
        let good = try SpeculaProcess.run(["worker", "--show-config", "--kv-cache-mb", "64"],
                                          environment: ["SPECULA_CONFIG": path, "SPECULA_SPECULATE": "off", "SPECULA_MAX_RUNNING": "3"])
        #expect(good.status == 0)
        #expect(good.stdout.contains("(from \(path):1)\nrouter = 127.0.0.1:9\n"))
        #expect(good.stdout.contains("(from SPECULA_SPECULATE)\nspeculate = off\n"))
        #expect(good.stdout.contains("(from --kv-cache-mb)\nkv-cache-mb = 64\n"))
        #expect(good.stdout.contains("(default)\nlog-level = info\n"))
    }

    @Test("flags combining badly name both settings and where they came from")
    func combinedCheck() throws {
        let result = try SpeculaProcess.run(["worker", "--router", "127.0.0.1:9", "--heartbeat-interval-ms", "500"],
                                            environment: ["SPECULA_HEARTBEAT_TIMEOUT_MS": "400", "SPECULA_WORKER_TOKEN": "0123456789abcdef0123"])
        #expect(result.status != 0)
        #expect(result.stderr == "error: --heartbeat-interval-ms 500 and SPECULA_HEARTBEAT_TIMEOUT_MS=400: expected the interval below the timeout\n")
    }
}
