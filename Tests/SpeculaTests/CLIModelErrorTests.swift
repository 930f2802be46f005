import Foundation
import Testing

/// Malformed model files through the commands: one `error:` line naming what is wrong, a non-zero
/// exit, never a crash.
@Suite("Malformed model files on the command line")
struct CLIModelErrorTests {
    enum Damage: String, CaseIterable, CustomStringConvertible {
        case missingFolder, unknownArchitecture, inconsistentConfig, wrongShape, truncatedWeights,
             missingTensor, unsupportedDType, badGGUFMagic, truncatedGGUF

        var description: String { rawValue }
    }

    /// A damaged copy of the m1 fixture and the words its error must contain.
    static func damagedModel(_ damage: Damage) throws -> (path: String, expected: [String]) {
        let fm = FileManager.default
        let directory = fm.temporaryDirectory.appendingPathComponent("specula-damage-\(damage)-\(UUID().uuidString)")
        let model = directory.appendingPathComponent("m1")
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        try fm.copyItem(at: SpeculaProcess.fixtures.appendingPathComponent("models/m1_llama_gqa_tied"), to: model)
        let config = model.appendingPathComponent("config.json")
        let weights = model.appendingPathComponent("model.safetensors")
        func editConfig(_ body: (inout [String: Any]) -> Void) throws {
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as? [String: Any] ?? [:]
            body(&object)
            try JSONSerialization.data(withJSONObject: object).write(to: config)
        }
        func editHeader(_ from: String, _ to: String) throws {
            precondition(from.utf8.count == to.utf8.count)
            var bytes = [UInt8](try Data(contentsOf: weights))
            let headerEnd = 8 + Int(bytes[0]) + Int(bytes[1]) << 8 + Int(bytes[2]) << 16
            var header = String(decoding: bytes[8..<headerEnd], as: UTF8.self)
            header = header.replacingOccurrences(of: from, with: to)
            bytes.replaceSubrange(8..<headerEnd, with: Array(header.utf8))
            try Data(bytes).write(to: weights)
        }
        func copyGGUF(_ mutate: (inout [UInt8]) -> Void) throws -> String {
            var bytes = [UInt8](try Data(contentsOf: SpeculaProcess.fixtures.appendingPathComponent("gguf/m1_llama_gqa_tied-f32.gguf")))
            mutate(&bytes)
            let path = directory.appendingPathComponent("m1.gguf")
            try Data(bytes).write(to: path)
            return path.path
        }
        switch damage {
        case .missingFolder:
            return (directory.appendingPathComponent("nothing-here").path, ["nothing-here"])
        case .unknownArchitecture:
            try editConfig { $0["model_type"] = "gpt_neox"; $0["architectures"] = ["GPTNeoXForCausalLM"] }
            return (model.path, ["config.json", "gpt_neox"])
        case .inconsistentConfig:
            try editConfig { $0["num_key_value_heads"] = 3 }
            return (model.path, ["config.json", "num_key_value_heads"])
        case .wrongShape:
            try editConfig { $0["intermediate_size"] = 200 }
            return (model.path, ["model.safetensors", "[200, 64]"])
        case .truncatedWeights:
            let data = try Data(contentsOf: weights)
            try data.prefix(data.count / 2).write(to: weights)
            return (model.path, ["model.safetensors"])
        case .missingTensor:
            try editHeader("model.norm.weight", "model.norx.weight")
            return (model.path, ["model.norm.weight"])
        case .unsupportedDType:
            try editHeader("\"BF16\"", "\"I16\" ")
            return (model.path, ["I16"])
        case .badGGUFMagic:
            return (try copyGGUF { $0.replaceSubrange(0..<4, with: Array("GGUX".utf8)) }, ["m1.gguf", "expected 'GGUF'"])
        case .truncatedGGUF:
            return (try copyGGUF { $0.removeLast($0.count / 3) }, ["m1.gguf"])
        }
    }

    @Test("each damage gives one error line and a non-zero exit", arguments: Damage.allCases)
    func damaged(damage: Damage) throws {
        let (path, expected) = try Self.damagedModel(damage)
        for command in [["logits", "--ids", "1,2"], ["generate", "--ids", "1,2", "--max-tokens", "2"]] {
            let result = try SpeculaProcess.run(command + ["--model", path])
            #expect(result.status == 1, "\(damage): exit \(result.status)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(damage): \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: "))
            for word in expected {
                #expect(result.stderr.contains(word), "\(damage): '\(word)' not in \(result.stderr)")
            }
        }
    }
}
