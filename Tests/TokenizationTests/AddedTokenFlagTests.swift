import Foundation
import Testing
@testable import Tokenization

/// Added tokens with lstrip / rstrip / single_word / normalized flags, and contents already in the model
/// vocabulary, against ids from HF tokenizers 0.23.3 for the same modified tokenizer.json files.
struct AddedTokenFlagTests {
    static let extra: [(String, [String: Bool])] = [
        ("<tok>", ["special": true]), ("<ls>", ["lstrip": true]), ("<rs>", ["rstrip": true, "special": true]),
        ("<both>", ["lstrip": true, "rstrip": true]), ("word", ["single_word": true]),
        ("hello", ["normalized": true]), ("é", ["normalized": true]),
    ]
    static let texts = ["say <tok> now", "say<tok>now", "a  <ls>  b", "a  <rs>  b", "x <both>\t y",
                        "word wordy sword word", "  <ls><ls>  ", "hello world hello", "<rs> <rs> <rs>", "é café word"]
    static let expected: [String: [[Int]]] = [
        "t1_gpt2": [[82, 64, 88, 220, 1024, 292, 735], [82, 64, 88, 1024, 489, 86], [64, 1025, 220, 308],
                    [64, 256, 1026, 65], [87, 1027, 88], [1028, 327, 268, 67, 88, 305, 625, 67, 220, 1028],
                    [1025, 1025, 256], [1029, 327, 268, 75, 67, 220, 1029], [1026, 1026, 1026],
                    [165, 285, 64, 69, 165, 220, 1028]],
        "t3_spm": [[401, 323, 347, 358, 1024, 358, 881, 345], [401, 323, 347, 1024, 881, 345], [364, 1025, 358, 358, 404],
                   [364, 358, 358, 1026, 404], [862, 1027, 845], [1028, 358, 420, 365, 326, 347, 401, 732, 326, 358, 1028],
                   [1025, 1025, 358, 358, 358], [1029, 420, 365, 334, 326, 1029], [1026, 1026, 1026],
                   [1030, 379, 323, 328, 198, 172, 358, 1028]],
        "t2_qwen2": [[82, 64, 88, 220, 1280, 291, 760], [82, 64, 88, 1280, 492, 86], [64, 1281, 220, 308],
                     [64, 256, 1282, 65], [87, 1283, 88], [1233, 325, 267, 67, 88, 305, 1233, 220, 1233],
                     [1281, 1281, 256], [1284, 325, 267, 75, 67, 220, 1284], [1282, 1282, 1282],
                     [165, 1066, 69, 165, 220, 1233]],
    ]

    static func tokenizer(_ family: String) throws -> Tokenizer {
        let url = Fixtures.tokenizerFolder(family).appendingPathComponent("tokenizer.json")
        var root = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let model = try #require(root["model"] as? [String: Any])
        let next = try #require((model["vocab"] as? [String: Int])?.values.max()) + 1
        var added = try #require(root["added_tokens"] as? [[String: Any]])
        for (offset, (content, flags)) in extra.enumerated() {
            var token: [String: Any] = ["id": next + offset, "content": content, "single_word": false, "lstrip": false,
                                        "rstrip": false, "normalized": false, "special": false]
            for (key, value) in flags { token[key] = value }
            added.append(token)
        }
        root["added_tokens"] = added
        return try Tokenizer(tokenizerJSON: JSONSerialization.data(withJSONObject: root), tokenizerConfigJSON: nil,
                             source: "\(family)+added")
    }

    @Test(arguments: ["t1_gpt2", "t3_spm", "t2_qwen2"])
    func flagsMatchHF(family: String) throws {
        let tokenizer = try Self.tokenizer(family)
        let expected = try #require(Self.expected[family])
        for (text, ids) in zip(Self.texts, expected) {
            #expect(tokenizer.encode(text, addSpecialTokens: false) == ids, "\(family) \(text.debugDescription)")
        }
        #expect(tokenizer.decode(expected[3], skipSpecialTokens: true).contains("<rs>") == false)
    }
}

/// single_word with non-ASCII neighbours, Unicode whitespace for lstrip/rstrip, and a rejected
/// single_word match hiding a shorter token inside it (HF's matcher consumes the span).
struct AddedTokenUnicodeFlagTests {
    @Test func unicodeNeighboursAndConsumedSpans() throws {
        let url = Fixtures.tokenizerFolder("t1_gpt2").appendingPathComponent("tokenizer.json")
        var root = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var added = try #require(root["added_tokens"] as? [[String: Any]])
        for (offset, (content, singleWord, strip)) in [("wordy", true, false), ("dy", false, false), ("€", true, true)].enumerated() {
            added.append(["id": 1024 + offset, "content": content, "single_word": singleWord, "lstrip": strip,
                          "rstrip": strip, "normalized": false, "special": false])
        }
        root["added_tokens"] = added
        let tokenizer = try Tokenizer(tokenizerJSON: JSONSerialization.data(withJSONObject: root), tokenizerConfigJSON: nil,
                                      source: "t1+unicode")
        let cases: [(String, [Int])] = [
            ("swordy dy wordy", [82, 625, 67, 88, 220, 1025, 220, 1024]),
            ("x€y", [87, 158, 224, 105, 88]),
            ("a\u{3000}€\u{00A0}b", [64, 1026, 65]),
            ("1€2", [16, 158, 224, 105, 17]),
            ("é€", [127, 102, 158, 224, 105]),
        ]
        for (text, ids) in cases {
            #expect(tokenizer.encode(text, addSpecialTokens: false) == ids, "\(text.debugDescription)")
        }
    }
}
