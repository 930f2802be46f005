import ArgumentParser
import Foundation
import Kernels
import ServiceSettings
import WorkerCore

/// `specula worker`'s settings: one list for flags, `SPECULA_*` variables and config-file keys, with
/// the defaults and allowed values all three share (Deploy/configuration.md documents them).
enum WorkerSettings {
    static let schema = SettingsSchema(command: "specula worker", keys: [
        SettingKey("router", .custom("HOST:PORT[,HOST:PORT...] with ports in 1-65535", { (try? RouterAddress.parseList($0)) != nil }),
                   "Routers to connect to"),
        SettingKey("model", .path, "Model folder or .gguf file (default: the bundled pycode-6m)"),
        SettingKey("name", .custom("1-128 bytes of text", { (1...128).contains($0.utf8.count) }),
                   "Worker name (default: HOSTNAME-PID)"),
        SettingKey("datastore", .path, "SSSD datastore file (default: the bundled corpus's, for models with the bundled tokenizer)"),
        SettingKey("speculate", .choice(["on", "off"]), default: "on",
                   "Speculation: on (SSSD drafts, as each request asks) or off (one token per step; no datastore is loaded)"),
        SettingKey("threads", .integer(1...1024), "Compute threads (default: all cores)"),
        SettingKey("kv-cache-mb", .integer(1...1_048_576), default: "256", "KV cache budget in MB"),
        SettingKey("max-running", .integer(1...65_535), default: "16",
                   "Most requests held at once (running + waiting); the credits offered to all routers together"),
        SharedSettings.workerTokenFile, SharedSettings.heartbeatInterval, SharedSettings.heartbeatTimeout,
        SettingKey("reconnect-max-ms", .integer(100...3_600_000), default: "5000", "Longest reconnect delay in ms (delays double from 100 ms)"),
        SharedSettings.logLevel,
        SettingKey("activations", .choice(ActivationPrecision.allCases.map(\.rawValue)), default: "f32",
                   "Activations in matrix products: f32 (reference numerics) or bf16 (bf16 weights on AVX512-BF16 CPUs: twice the multiply-adds per instruction, activations rounded to bf16)"),
    ])

    static func help(_ name: String) -> ArgumentHelp { schema.help(name) }
}

extension Worker: ServiceCommand {
    static var settingsSchema: SettingsSchema { WorkerSettings.schema }

    var givenFlags: [String: String] {
        let given: [String: String?] = [
            "router": router, "model": model, "name": name, "datastore": datastore, "speculate": speculate,
            "threads": threads.map(String.init), "kv-cache-mb": kvCacheMb.map(String.init),
            "max-running": maxRunning.map(String.init), "worker-token-file": workerTokenFile,
            "heartbeat-interval-ms": heartbeatIntervalMs.map(String.init),
            "heartbeat-timeout-ms": heartbeatTimeoutMs.map(String.init),
            "reconnect-max-ms": reconnectMaxMs.map(String.init), "log-level": logLevel,
            "activations": activations?.rawValue,
        ]
        return given.compactMapValues { $0 }
    }
}
