import Foundation
import Testing
@testable import Tokenization

/// Longer texts than the fixtures: a random mix of scripts and whitespace, and real corpus code,
/// against ids from HF tokenizers; and the shared cache under concurrent use.
struct HFReferenceTests {
    static func text(_ base64: String) throws -> String {
        let data = try #require(Data(base64Encoded: base64))
        return try #require(String(data: data, encoding: .utf8))
    }

    static func ids(_ list: String) -> [Int] { list.split(separator: " ").compactMap { Int($0) } }

    static func tokenizer(_ name: String) throws -> Tokenizer {
        name == "pycode" ? try Tokenizer.load(path: Fixtures.pycodeFolder.path) : try Fixtures.tokenizer(name)
    }

    @Test(arguments: ["pycode"] + Fixtures.families)
    func stressText(name: String) throws {
        let tokenizer = try Self.tokenizer(name)
        let expected = Self.ids(try #require(HFReference.stressIDs[name]))
        let text = try Self.text(HFReference.stressText)
        #expect(expected.count > 1000)
        #expect(tokenizer.encode(text, addSpecialTokens: false) == expected)
    }

    @Test func corpusCode() throws {
        let tokenizer = try Self.tokenizer("pycode")
        let text = try Self.text(HFReference.corpusText)
        let ids = tokenizer.encode(text, addSpecialTokens: false)
        #expect(ids == Self.ids(HFReference.corpusPycodeIDs))
        #expect(tokenizer.decode(ids, skipSpecialTokens: false) == text)
    }

    @Test func concurrentEncodesAgree() async throws {
        let tokenizer = try Self.tokenizer("t2_llama3")
        let text = try Self.text(HFReference.stressText)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let expected = lines.map { tokenizer.encode($0, addSpecialTokens: true) }
        let results = await withTaskGroup(of: Bool.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    // Each worker walks the lines in its own order, so cache fills interleave.
                    let order = worker % 2 == 0 ? Array(lines.indices) : lines.indices.reversed()
                    return order.allSatisfy { tokenizer.encode(lines[$0], addSpecialTokens: true) == expected[$0] }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == [true, true, true, true])
    }
}
