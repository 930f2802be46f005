import ArgumentParser
import Foundation
import ServiceSettings
@testable import specula
import Testing
import Wire

@Suite("specula router and serve settings")
struct RouterSettingsTests {
    static let samples: [String: String] = [
        "listen": "0.0.0.0:8081", "worker-listen": "[::1]:9091", "worker-token-file": "/t", "api-key-file": "/k",
        "tls-cert": "/c.pem", "tls-key": "/k.pem", "max-queue": "7", "request-timeout": "2.5", "max-request-timeout": "60",
        "heartbeat-interval-ms": "100", "heartbeat-timeout-ms": "900", "max-body-bytes": "1000", "shutdown-grace": "0.5",
        "event-loop-threads": "2", "log-level": "debug",
        // serve's own
        "model": "/m", "workers": "3", "host": "0.0.0.0", "port": "8082", "datastore": "/d.sssd", "speculate": "off",
        "threads": "2", "kv-cache-mb": "64", "max-running": "5", "worker-port": "9092",
    ]
    static let token = try! HandshakeProof(token: Array("0123456789abcdef0123".utf8))

    static func givenFlags(_ schema: SettingsSchema, _ arguments: [String]) throws -> [String: String] {
        schema.command == "specula router" ? try Router.parse(arguments).givenFlags : try Serve.parse(arguments).givenFlags
    }

    @Test("every router and serve setting is a flag of the same name, and every flag given reaches the settings",
          arguments: [RouterSettings.schema, ServeSettings.schema])
    func flagsMatchTheSchema(schema: SettingsSchema) throws {
        for key in schema.keys {
            let value = try #require(Self.samples[key.name], "\(key.name) has no sample")
            #expect(try Self.givenFlags(schema, [key.flag, value]) == [key.name: value], "\(key.flag)")
        }
        #expect(try Self.givenFlags(schema, []).isEmpty)
    }

    @Test("the sample value of every key passes its check, in a file and in the environment", arguments: [RouterSettings.schema, ServeSettings.schema])
    func samplesAreValid(schema: SettingsSchema) throws {
        let text = schema.keys.map { "\($0.name) = \(Self.samples[$0.name]!)" }.joined(separator: "\n")
        let fromFile = try ResolvedSettings(schema: schema, flags: [:], environment: [:], file: try SettingsFile(path: "r.conf", text: text))
        let environment = Dictionary(uniqueKeysWithValues: schema.keys.map { ($0.environmentName, Self.samples[$0.name]!) })
        let fromEnvironment = try ResolvedSettings(schema: schema, flags: [:], environment: environment, file: nil)
        for key in schema.keys {
            #expect(fromFile.string(key.name) == Self.samples[key.name])
            #expect(fromEnvironment.string(key.name) == Self.samples[key.name])
        }
    }

    @Test("flags beat SPECULA_* variables, which beat the config file, which beats the defaults")
    func precedence() throws {
        let path = try Self.temporaryFile("router.conf", "max-queue = 5\nrequest-timeout = 30\nlisten = 127.0.0.1:1\nlog-level = warning\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let environment = ["SPECULA_CONFIG": path, "SPECULA_REQUEST_TIMEOUT": "40", "SPECULA_LISTEN": "127.0.0.1:2"]
        let settings = try Router.parse(["--listen", "127.0.0.1:3"]).resolvedSettings(environment: environment)
        let expected: [(String, String, SettingSource)] = [
            ("listen", "127.0.0.1:3", .flag("--listen")), ("request-timeout", "40", .environment("SPECULA_REQUEST_TIMEOUT")),
            ("max-queue", "5", .file(path: path, line: 1)), ("shutdown-grace", "30", .defaultValue),
        ]
        for (name, text, source) in expected {
            #expect(settings.value(name)?.text == text && settings.value(name)?.source == source, "\(name)")
        }
        #expect(settings.string("log-level") == "warning")

        let options = try RouterSettings.serverOptions(settings, http: ("127.0.0.1", 3), workers: ("127.0.0.1", 4), proof: Self.token)
        #expect(options.configuration.maxQueue == 5)
        #expect(options.configuration.requestTimeout == .seconds(40))
        #expect(options.tls == nil && options.apiKeys == nil)
        #expect(RouterSettings.grace(settings) == .seconds(30))
        let flagged = try Router.parse(["--config", path, "--max-queue", "9"]).resolvedSettings(environment: [:])
        #expect(flagged.integer("max-queue") == 9 && flagged.number("request-timeout") == 30, "--config names the file without SPECULA_CONFIG")
    }

    @Test("a bad router value is one line naming where it came from, the key and what is allowed", arguments: [
        (["SPECULA_MAX_QUEUE": "-1"], "SPECULA_MAX_QUEUE='-1': expected an integer >= 0"),
        (["SPECULA_LISTEN": "nowhere"], "SPECULA_LISTEN='nowhere': expected HOST:PORT with a port in 0-65535"),
        (["SPECULA_WORKER_LISTEN": "127.0.0.1:70000"], "SPECULA_WORKER_LISTEN='127.0.0.1:70000': expected HOST:PORT with a port in 0-65535"),
        (["SPECULA_REQUEST_TIMEOUT": "0"], "SPECULA_REQUEST_TIMEOUT='0': expected a number from 0.001 to 86400"),
        (["SPECULA_SHUTDOWN_GRACE": "forever"], "SPECULA_SHUTDOWN_GRACE='forever': expected a number from 0 to 86400"),
        (["SPECULA_LOG_LEVEL": "loud"], "SPECULA_LOG_LEVEL='loud': expected one of trace, debug, info, notice, warning, error, critical"),
        (["SPECULA_EVENT_LOOP_THREADS": "0"], "SPECULA_EVENT_LOOP_THREADS='0': expected an integer from 1 to 256"),
        (["SPECULA_API_KEY_FILE": ""], "SPECULA_API_KEY_FILE='': expected a path"),
    ])
    func badValues(environment: [String: String], message: String) throws {
        #expect(Self.error { _ = try Router.parse([]).resolvedSettings(environment: environment) } == message)
    }

    @Test("an unknown key in a router config file is named with the likely key; so is a serve key given to the router")
    func unknownKeys() throws {
        let path = try Self.temporaryFile("router.conf", "# router\nmax-queu = 5\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let message = Self.error { _ = try Router.parse(["--config", path]).resolvedSettings(environment: [:]) }
        #expect(message?.hasPrefix("\(path):2: unknown key 'max-queu' for specula router (did you mean 'max-queue'?); known keys: listen, ") == true,
                "\(message ?? "")")
        try "workers = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(Self.error { _ = try Router.parse(["--config", path]).resolvedSettings(environment: [:]) }?
            .hasPrefix("\(path):1: unknown key 'workers' for specula router") == true)
    }

    @Test("settings that combine badly name both and where they came from", arguments: [
        (["--request-timeout", "100"], ["SPECULA_MAX_REQUEST_TIMEOUT": "50"],
         "--request-timeout 100 and SPECULA_MAX_REQUEST_TIMEOUT=50: expected the timeout at most the maximum"),
        (["--heartbeat-interval-ms", "500"], ["SPECULA_HEARTBEAT_TIMEOUT_MS": "400"],
         "--heartbeat-interval-ms 500 and SPECULA_HEARTBEAT_TIMEOUT_MS=400: expected the interval below the timeout"),
        (["--tls-key", "/k.pem"], [:], "--tls-key /k.pem without tls-cert: --tls-cert and --tls-key go together"),
        ([], ["SPECULA_TLS_CERT": "/c.pem"], "SPECULA_TLS_CERT=/c.pem without tls-key: --tls-cert and --tls-key go together"),
    ])
    func combinations(arguments: [String], environment: [String: String], message: String) throws {
        let settings = try Router.parse(arguments).resolvedSettings(environment: environment)
        #expect(Self.error { _ = try RouterSettings.serverOptions(settings, http: ("h", 1), workers: ("h", 2), proof: Self.token) } == message)
    }

    @Test("Deploy/configuration.md lists every router and serve key with its variable")
    func documented() throws {
        let doc = try String(contentsOf: SpeculaProcess.packageRoot.appendingPathComponent("Deploy/configuration.md"), encoding: .utf8)
        for key in RouterSettings.schema.keys + ServeSettings.schema.keys {
            #expect(doc.contains("`\(key.name)`") && doc.contains("`\(key.environmentName)`"), "\(key.name) undocumented")
        }
    }

    @Test("every variable in Deploy/router.env and Deploy/worker.env, commented or not, is a setting of its command or a documented non-setting",
          arguments: [("router.env", RouterSettings.schema), ("worker.env", WorkerSettings.schema)])
    func environmentFiles(file: String, schema: SettingsSchema) throws {
        let text = try String(contentsOf: SpeculaProcess.packageRoot.appendingPathComponent("Deploy/\(file)"), encoding: .utf8)
        let others: Set = ["SPECULA_CONFIG", "SPECULA_WORKER_TOKEN", "SPECULA_CACHE", "SPECULA_ASSETS"]
        var active: [String: String] = [:]
        var named = 0
        for line in text.split(separator: "\n") {
            let assignment = line.hasPrefix("#SPECULA_") ? line.dropFirst() : line
            guard assignment.hasPrefix("SPECULA_"), let equals = assignment.firstIndex(of: "=") else { continue }
            let variable = String(assignment[..<equals])
            named += 1
            #expect(schema.keys.contains { $0.environmentName == variable } || others.contains(variable), "\(file): \(variable) is no \(schema.command) setting")
            if !line.hasPrefix("#") { active[variable] = String(assignment[assignment.index(after: equals)...]) }
        }
        #expect(named >= 8)
        active["SPECULA_CONFIG"] = nil
        _ = try ResolvedSettings(schema: schema, flags: [:], environment: active, file: nil)
    }

    @Test("serve's workers get serve's values as flags, and neither SPECULA_CONFIG, the variables of settings serve decides, nor the notify socket")
    func serveWorkerEnvironment() throws {
        let path = try Self.temporaryFile("serve.conf", "workers = 2\nthreads = 3\nkv-cache-mb = 48\nheartbeat-timeout-ms = 9000\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let environment = [
            "SPECULA_CONFIG": path, "SPECULA_SPECULATE": "off", "SPECULA_WORKER_TOKEN_FILE": "/etc/specula/worker-token",
            "SPECULA_ROUTER": "10.0.0.1:9090", "SPECULA_NAME": "x", "SPECULA_THREADS": "5", "SPECULA_ACTIVATIONS": "bf16",
            "SPECULA_CACHE": "/c", "NOTIFY_SOCKET": "@n", "WATCHDOG_USEC": "1000", "PATH": "/bin",
        ]
        let settings = try Serve.parse(["--max-running", "6"]).resolvedSettings(environment: environment)
        let children = ServeSettings.workerEnvironment(environment, token: "t0123456789abcdef")
        #expect(children == ["SPECULA_ACTIVATIONS": "bf16", "SPECULA_CACHE": "/c", "PATH": "/bin", "SPECULA_WORKER_TOKEN": "t0123456789abcdef"])
        let arguments = ServeSettings.workerArguments(settings, threads: settings.integer("threads")!)
        let worker = try Worker.parse(["--router", "127.0.0.1:1"] + arguments)
        let resolved = try worker.resolvedSettings(environment: children)
        let expected: [String: SettingSource] = [
            "threads": .flag("--threads"), "kv-cache-mb": .flag("--kv-cache-mb"), "max-running": .flag("--max-running"),
            "speculate": .flag("--speculate"), "heartbeat-timeout-ms": .flag("--heartbeat-timeout-ms"),
            "activations": .environment("SPECULA_ACTIVATIONS"),
        ]
        #expect(resolved.string("threads") == "5" && resolved.string("kv-cache-mb") == "48" && resolved.string("max-running") == "6")
        #expect(resolved.string("speculate") == "off" && resolved.string("heartbeat-timeout-ms") == "9000" && resolved.string("activations") == "bf16")
        for (name, source) in expected {
            #expect(resolved.value(name)?.source == source, "\(name)")
        }
        #expect(resolved.value("worker-token-file") == nil, "the token serve made, not the router's token file")
        #expect(worker.settingsOptions.config == nil && resolved.file == nil)
    }

    static func error(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    static func temporaryFile(_ name: String, _ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("specula-\(UUID().uuidString.prefix(8))-\(name)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
