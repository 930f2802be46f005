import Foundation
import Testing

/// The tokenizer fixtures, through the command line (the library suites check every case; these check
/// that the commands wire the same behaviour through, on a sample of each family).
@Suite("tokenize / detokenize commands")
struct CLITokenizerTests {
    static let families = ["t1_gpt2", "t2_llama3", "t2_qwen2", "t3_spm"]

    static func cases(_ family: String) throws -> [[String: Any]] {
        let url = SpeculaProcess.fixtures.appendingPathComponent("tokenizers/\(family)/fixture.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        return object?["cases"] as? [[String: Any]] ?? []
    }

    static func ids(_ output: String) throws -> [Int] {
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        return object?["ids"] as? [Int] ?? [-1]
    }

    @Test("tokenize --json matches the fixtures, with and without --special", arguments: families)
    func tokenize(family: String) throws {
        let folder = SpeculaProcess.fixtures.appendingPathComponent("tokenizers/\(family)").path
        let cases = try Self.cases(family)
        #expect(cases.count >= 50)
        for testCase in cases.enumerated().filter({ $0.offset % 12 == 0 }).map(\.element) {
            let text = try #require(testCase["text"] as? String)
            let plain = try SpeculaProcess.run(["tokenize", "--model", folder, "--text", text, "--json"])
            #expect(plain.status == 0, "\(plain.stderr)")
            #expect(try Self.ids(plain.stdout) == testCase["ids"] as? [Int], "\(family): \(text.debugDescription)")
            let special = try SpeculaProcess.run(["tokenize", "--model", folder, "--text", text, "--special", "--json"])
            #expect(try Self.ids(special.stdout) == testCase["ids_add_special"] as? [Int], "\(family): \(text.debugDescription)")
        }
    }

    @Test("detokenize --json matches the fixtures, with and without --skip-special", arguments: families)
    func detokenize(family: String) throws {
        let folder = SpeculaProcess.fixtures.appendingPathComponent("tokenizers/\(family)").path
        for testCase in try Self.cases(family).enumerated().filter({ $0.offset % 12 == 5 }).map(\.element) {
            let ids = try #require(testCase["ids_add_special"] as? [Int])
            guard !ids.isEmpty else { continue }
            let list = ids.map(String.init).joined(separator: ",")
            for (flags, key) in [([String](), "decode_add_special"), (["--skip-special"], "decode_add_special_skip_special")] {
                let result = try SpeculaProcess.run(["detokenize", "--model", folder, "--ids", list, "--json"] + flags)
                #expect(result.status == 0, "\(result.stderr)")
                let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
                #expect(object?["text"] as? String == testCase[key] as? String, "\(family) \(key)")
            }
        }
    }

    @Test("the bundled model is the default: the issue's example")
    func bundledDefault() throws {
        let result = try SpeculaProcess.run(["tokenize", "--text", "def f(x):", "--json"])
        #expect(result.status == 0)
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf:
            SpeculaProcess.fixtures.appendingPathComponent("pycode-6m/reference/tokenizer-cases.json"))) as? [String: Any]
        let cases = reference?["cases"] as? [[String: Any]] ?? []
        if let expected = cases.first(where: { $0["text"] as? String == "def f(x):" })?["ids"] as? [Int] {
            #expect(try Self.ids(result.stdout) == expected)
        } else {
            #expect(try Self.ids(result.stdout).isEmpty == false)
        }
    }

    @Test("chat rendering through the CLI equals transformers' apply_chat_template", arguments: ["m2_qwen2_bias", "m3_mistral_spm"])
    func chat(model: String) throws {
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf:
            SpeculaProcess.fixtures.appendingPathComponent("reference/\(model).json"))) as? [String: Any]
        let chat = try #require(reference?["chat"] as? [String: Any])
        let messages = String(decoding: try JSONSerialization.data(withJSONObject: chat["messages"] as Any), as: UTF8.self)
        let folder = SpeculaProcess.fixtures.appendingPathComponent("models/\(model)").path
        let result = try SpeculaProcess.run(["tokenize", "--model", folder, "--chat", messages, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(object?["rendered"] as? String == chat["rendered"] as? String)
        #expect(object?["ids"] as? [Int] == chat["ids"] as? [Int])
    }
}
