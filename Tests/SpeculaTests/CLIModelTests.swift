import Foundation
import Testing

/// `specula logits`, `generate` and `synth` reproduce the references through the command line.
@Suite("logits / generate / synth commands")
struct CLIModelTests {
    static func reference(_ name: String) throws -> [String: Any] {
        let url = SpeculaProcess.fixtures.appendingPathComponent("pycode-6m/reference/\(name).json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
    }

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    static func floats(_ value: Any?) -> [Float] {
        (value as? [Any] ?? []).map { Float(($0 as? NSNumber)?.doubleValue ?? .nan) }
    }

    @Test("logits --json matches the reference's last-position logits", arguments: ["prompt-short", "prompt-unicode"])
    func logits(name: String) throws {
        let reference = try Self.reference(name)
        let ids = try #require(reference["input_ids"] as? [Int])
        let result = try SpeculaProcess.run(["logits", "--ids", ids.map(String.init).joined(separator: ","), "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try Self.json(result.stdout)
        let ours = Self.floats(output["last_logits"])
        let theirs = Self.floats(reference["last_logits"])
        #expect(ours.count == theirs.count)
        #expect((zip(ours, theirs).map { abs($0 - $1) }.max() ?? 1) < 1e-3)
        #expect((output["top5"] as? [Any])?.count == ids.count)
    }

    @Test("logits --text --special starts the prompt with BOS, as the reference did")
    func logitsFromText() throws {
        let reference = try Self.reference("prompt-short")
        let result = try SpeculaProcess.run(["logits", "--text", try #require(reference["prompt"] as? String), "--special", "--json"])
        #expect(try Self.json(result.stdout)["ids"] as? [Int] == reference["input_ids"] as? [Int])
    }

    @Test("generate reproduces the reference greedy continuation, with and without speculation",
          arguments: ["off", "auto", "7"])
    func generate(speculate: String) throws {
        let reference = try Self.reference("prompt-short")
        let greedy = try #require((reference["greedy"] as? [String: Any])?["ids"] as? [Int])
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("specula-cli-cache").path
        let result = try SpeculaProcess.run(
            ["generate", "--prompt", try #require(reference["prompt"] as? String), "--max-tokens", "\(greedy.count)",
             "--ignore-eos", "--speculate", speculate, "--json"], environment: ["SPECULA_CACHE": cache])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try Self.json(result.stdout)
        #expect(output["ids"] as? [Int] == greedy)
        #expect(output["finish_reason"] as? String == "length")
        #expect(output["completion_tokens"] as? Int == greedy.count)
        let speculation = try #require(output["speculation"] as? [String: Any])
        // `auto` drafts only when drafts pay on this machine and build (a debug build drafts slowly, so
        // its policy may rightly decline); a fixed budget always drafts and must get drafts accepted.
        if speculate == "7" {
            #expect((speculation["mean_accepted_length"] as? Double ?? 0) > 1)
        }
    }

    @Test("synth --embed writes a wider, deeper model that computes the bundled model's logits")
    func synthEmbed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("specula-embed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let bundled = SpeculaProcess.packageRoot.appendingPathComponent("Sources/specula/Resources/models/pycode-6m").path
        let synth = try SpeculaProcess.run(["synth", "--embed", bundled, "--layers", "8", "--hidden", "512", "--heads", "16",
                                            "--kv-heads", "8", "--ffn", "1024", "--vocab", "4096", "--dtype", "f32",
                                            "--out", folder.path])
        #expect(synth.status == 0, "\(synth.stderr)")
        let config = try Self.json(String(decoding: try Data(contentsOf: folder.appendingPathComponent("config.json")), as: UTF8.self))
        #expect(config["hidden_size"] as? Int == 512)
        #expect(config["num_attention_heads"] as? Int == 16)
        #expect(config["num_key_value_heads"] as? Int == 8)
        let ids = try #require(try Self.reference("prompt-short")["input_ids"] as? [Int]).map(String.init).joined(separator: ",")
        let small = Self.floats(try Self.json(try SpeculaProcess.run(["logits", "--ids", ids, "--json"]).stdout)["last_logits"])
        let large = Self.floats(try Self.json(try SpeculaProcess.run(["logits", "--model", folder.path, "--ids", ids, "--json"]).stdout)["last_logits"])
        #expect(small.count == 4096 && large.count == 4096)
        #expect((zip(small, large).map { abs($0 - $1) }.max() ?? 1) < 1e-4)
    }
}
