import Foundation
import ServiceSettings
import Testing

@Suite("layered settings")
struct ResolvedSettingsTests {
    static let schema = SettingsSchema(command: "specula test", keys: [
        SettingKey("router", .custom("HOST:PORT", { $0.contains(":") }), "Routers"),
        SettingKey("kv-cache-mb", .integer(1...1024), default: "256", "KV cache"),
        SettingKey("speculate", .choice(["on", "off"]), default: "on", "Speculation"),
        SettingKey("verbose", .boolean, default: "false", "Chatty"),
        SettingKey("model", .path, "Model"),
    ])

    static func file(_ text: String) throws -> SettingsFile {
        try SettingsFile(path: "/etc/specula/test.conf", text: text)
    }

    static func resolve(flags: [String: String] = [:], environment: [String: String] = [:],
                        file text: String? = nil) throws -> ResolvedSettings {
        try ResolvedSettings(schema: schema, flags: flags, environment: environment, file: text.map(file))
    }

    static func error(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("flags beat the environment, which beats the file, which beats the defaults")
    func precedence() throws {
        let text = "kv-cache-mb = 64\nspeculate = off\nrouter = file:1\n"
        let environment = ["SPECULA_KV_CACHE_MB": "128", "SPECULA_ROUTER": "env:2"]
        let settings = try Self.resolve(flags: ["kv-cache-mb": "512"], environment: environment, file: text)
        #expect(settings.integer("kv-cache-mb") == 512)
        #expect(settings.value("kv-cache-mb")?.source == .flag("--kv-cache-mb"))
        #expect(settings.string("router") == "env:2")
        #expect(settings.value("router")?.source == .environment("SPECULA_ROUTER"))
        #expect(settings.string("speculate") == "off")
        #expect(settings.value("speculate")?.source == .file(path: "/etc/specula/test.conf", line: 2))
        #expect(settings.boolean("verbose") == false)
        #expect(settings.value("verbose")?.source == .defaultValue)
        #expect(settings.string("model") == nil)
    }

    @Test("a bad value names its place, the key and what is allowed")
    func badValues() {
        #expect(Self.error { _ = try Self.resolve(file: "# comment\n\nkv-cache-mb = lots\n") }
                == "/etc/specula/test.conf:3: kv-cache-mb = 'lots': expected an integer from 1 to 1024")
        #expect(Self.error { _ = try Self.resolve(environment: ["SPECULA_SPECULATE": "maybe"]) }
                == "SPECULA_SPECULATE='maybe': expected one of on, off")
        #expect(Self.error { _ = try Self.resolve(flags: ["kv-cache-mb": "0"]) }
                == "--kv-cache-mb '0': expected an integer from 1 to 1024")
        #expect(Self.error { _ = try Self.resolve(file: "verbose = sometimes") }
                == "/etc/specula/test.conf:1: verbose = 'sometimes': expected true or false")
        #expect(Self.error { _ = try Self.resolve(file: "router = nowhere") }
                == "/etc/specula/test.conf:1: router = 'nowhere': expected HOST:PORT")
    }

    @Test("decimal numbers: finite and in range")
    func numbers() throws {
        let schema = SettingsSchema(command: "specula test", keys: [SettingKey("grace", .number(0...3600), default: "30", "Grace")])
        func resolve(_ text: String) throws -> ResolvedSettings {
            try ResolvedSettings(schema: schema, flags: [:], environment: ["SPECULA_GRACE": text], file: nil)
        }
        #expect(try resolve("2.5").number("grace") == 2.5)
        #expect(try ResolvedSettings(schema: schema, flags: [:], environment: [:], file: nil).number("grace") == 30)
        for bad in ["-1", "nan", "inf", "3601", "soon"] {
            #expect(Self.error { _ = try resolve(bad) } == "SPECULA_GRACE='\(bad)': expected a number from 0 to 3600")
        }
    }

    @Test("a bad value is an error even where a higher layer overrides it")
    func overriddenBadValue() {
        #expect(Self.error { _ = try Self.resolve(flags: ["kv-cache-mb": "8"], file: "kv-cache-mb = 0") }
                .hasPrefix("/etc/specula/test.conf:1: kv-cache-mb = '0'"))
    }

    @Test("unknown keys in the file are errors, with the likely key; unknown SPECULA_ variables are not")
    func unknownKeys() throws {
        let message = Self.error { _ = try Self.resolve(file: "speculate = on\nkv-cache = 12\n") }
        #expect(message == "/etc/specula/test.conf:2: unknown key 'kv-cache' for specula test (did you mean 'kv-cache-mb'?); "
                + "known keys: router, kv-cache-mb, speculate, verbose, model")
        #expect(Self.error { _ = try Self.resolve(file: "colour = blue") }.contains("unknown key 'colour' for specula test; known keys:"))
        let settings = try Self.resolve(environment: ["SPECULA_CACHE": "/var/cache/specula", "SPECULA_NO_SUCH": "x"])
        #expect(settings.integer("kv-cache-mb") == 256)
    }

    @Test("file syntax: comments, blanks, quotes, CRLF; one key per line, each key once")
    func fileSyntax() throws {
        let file = try Self.file("  # comment\r\n\r\nmodel = \" /srv/models/a b \"\r\nrouter=a:1\n   speculate   =   off   \n")
        #expect(file.entries == [
            .init(key: "model", value: " /srv/models/a b ", line: 3),
            .init(key: "router", value: "a:1", line: 4),
            .init(key: "speculate", value: "off", line: 5),
        ])
        #expect(Self.error { _ = try Self.file("router = a:1\nrouter = b:2") }
                == "/etc/specula/test.conf:2: 'router' is already set at line 1; give each key once")
        #expect(Self.error { _ = try Self.file("just words") }
                == "/etc/specula/test.conf:1: expected 'key = value', got 'just words'")
        #expect(Self.error { _ = try Self.file("two words = x") }.hasPrefix("/etc/specula/test.conf:1: expected 'key = value' with a key"))
        #expect(Self.error { _ = try Self.resolve(file: "model =") } == "/etc/specula/test.conf:1: model = '': expected a path")
    }

    @Test("--config beats SPECULA_CONFIG; an unreadable file is named")
    func configFileChoice() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("specula-settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("first.conf").path
        let second = directory.appendingPathComponent("second.conf").path
        try "kv-cache-mb = 1\n".write(toFile: first, atomically: true, encoding: .utf8)
        try "kv-cache-mb = 2\n".write(toFile: second, atomically: true, encoding: .utf8)
        let byFlag = try ResolvedSettings.load(schema: Self.schema, flags: [:], configFlag: first,
                                               environment: ["SPECULA_CONFIG": second])
        #expect(byFlag.integer("kv-cache-mb") == 1 && byFlag.file?.path == first)
        let byEnvironment = try ResolvedSettings.load(schema: Self.schema, flags: [:], configFlag: nil,
                                                      environment: ["SPECULA_CONFIG": second])
        #expect(byEnvironment.integer("kv-cache-mb") == 2)
        let missing = directory.appendingPathComponent("missing.conf").path
        #expect(Self.error { _ = try ResolvedSettings.load(schema: Self.schema, flags: [:], configFlag: missing, environment: [:]) }
                == "config file '\(missing)' cannot be read")
    }

    @Test("a missing required setting says every way to give it; origins describe values for combined checks")
    func requiredAndOrigin() throws {
        let settings = try Self.resolve(environment: ["SPECULA_KV_CACHE_MB": "32"], file: "speculate = off")
        #expect(Self.error { _ = try settings.required("router") }
                == "specula test needs router (HOST:PORT): pass --router, set SPECULA_ROUTER, or put 'router = …' in the config file")
        #expect(settings.origin("kv-cache-mb") == "SPECULA_KV_CACHE_MB=32")
        #expect(settings.origin("speculate") == "/etc/specula/test.conf:1: speculate = off")
        #expect(settings.origin("verbose") == "verbose = false (default)")
        #expect(try Self.resolve(flags: ["model": "/m"]).origin("model") == "--model /m")
    }

    @Test("the rendered settings are a config file that gives the same values back")
    func renderedRoundTrip() throws {
        let settings = try Self.resolve(flags: ["model": " spaced "], environment: ["SPECULA_KV_CACHE_MB": "32"], file: "speculate = off")
        let text = settings.rendered
        #expect(text.contains("# Routers (unset)\n# router =\n"))
        #expect(text.contains("# KV cache (from SPECULA_KV_CACHE_MB)\nkv-cache-mb = 32\n"))
        #expect(text.contains("model = \" spaced \"\n"))
        let again = try ResolvedSettings(schema: Self.schema, flags: [:], environment: [:], file: Self.file(text))
        for key in Self.schema.keys {
            #expect(again.string(key.name) == settings.string(key.name), "\(key.name)")
        }
    }

    @Test("environment names and help lines")
    func names() {
        let key = SettingKey("heartbeat-interval-ms", .integer(10...100), default: "50", "Heartbeat")
        #expect(key.environmentName == "SPECULA_HEARTBEAT_INTERVAL_MS")
        #expect(key.help == "Heartbeat (default: 50; env SPECULA_HEARTBEAT_INTERVAL_MS)")
        let choice = SettingKey("speculate", .choice(["on", "off"]), default: "on", "Speculation")
        #expect(choice.help == "Speculation (default: on; one of on, off; env SPECULA_SPECULATE)")
        #expect(SettingKind.integer(1...Int.max).allowedValues == "an integer >= 1")
        #expect(SettingKind.number(0...Double.infinity).allowedValues == "a number >= 0")
        #expect(SettingKind.number(0.5...30).allowedValues == "a number from 0.5 to 30")
    }
}
