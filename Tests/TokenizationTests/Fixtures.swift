import Foundation
@testable import Tokenization

/// Paths of the repository's test fixtures and decoders for their JSON files.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let families = ["t1_gpt2", "t2_llama3", "t2_qwen2", "t3_spm"]
    static let pycodeFolder = root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/specula/Resources/models/pycode-6m")

    static func tokenizerFolder(_ family: String) -> URL {
        root.appendingPathComponent("tokenizers").appendingPathComponent(family)
    }

    struct Case: Decodable {
        let text: String
        let ids: [Int]
        let ids_add_special: [Int]
        let decode: String
        let decode_add_special: String
        let decode_add_special_skip_special: String
    }

    struct FixtureFile: Decodable {
        let cases: [Case]
    }

    static func cases(_ family: String) throws -> [Case] {
        let data = try Data(contentsOf: tokenizerFolder(family).appendingPathComponent("fixture.json"))
        return try JSONDecoder().decode(FixtureFile.self, from: data).cases
    }

    struct PycodeCase: Decodable {
        let text: String
        let ids: [Int]
    }

    struct PycodeCases: Decodable {
        let cases: [PycodeCase]
    }

    static func pycodeCases() throws -> [PycodeCase] {
        let url = root.appendingPathComponent("pycode-6m/reference/tokenizer-cases.json")
        return try JSONDecoder().decode(PycodeCases.self, from: Data(contentsOf: url)).cases
    }

    struct Prompt: Decodable {
        let prompt: String
        let prompt_token_ids: [Int]
        let input_ids: [Int]
    }

    static func prompt(_ name: String) throws -> Prompt {
        let url = root.appendingPathComponent("pycode-6m/reference/\(name).json")
        return try JSONDecoder().decode(Prompt.self, from: Data(contentsOf: url))
    }

    static func tokenizer(_ family: String) throws -> Tokenizer {
        try Tokenizer.load(path: tokenizerFolder(family).path)
    }
}
