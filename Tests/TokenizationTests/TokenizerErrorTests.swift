import Foundation
import Testing
@testable import Tokenization

/// Bad input throws one-line errors naming the file, the key, what was found and what was expected.
struct TokenizerErrorTests {
    static func gpt2JSON() throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.tokenizerFolder("t1_gpt2").appendingPathComponent("tokenizer.json"))
        return try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func message(_ json: [String: Any]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: json)
        do {
            _ = try Tokenizer(tokenizerJSON: data, tokenizerConfigJSON: nil, source: "test.json")
            return "no error"
        } catch let error as TokenizationError {
            return error.description
        }
    }

    @Test func missingPath() throws {
        let error = #expect(throws: TokenizationError.self) {
            try Tokenizer.load(path: "/nonexistent/tokenizer-folder")
        }
        #expect(error?.description.contains("/nonexistent/tokenizer-folder") == true)
    }

    @Test func folderWithoutTokenizerJSON() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = #expect(throws: TokenizationError.self) { try Tokenizer.load(path: folder.path) }
        #expect(error?.description.contains("tokenizer.json") == true)
    }

    @Test func malformedJSON() throws {
        let error = #expect(throws: TokenizationError.self) {
            try Tokenizer(tokenizerJSON: Data("{\"model\": [".utf8), tokenizerConfigJSON: nil, source: "bad.json")
        }
        #expect(error?.description.hasPrefix("bad.json: found malformed JSON") == true)
    }

    @Test func unsupportedModelType() throws {
        var json = try Self.gpt2JSON()
        var model = try #require(json["model"] as? [String: Any])
        model["type"] = "Unigram"
        json["model"] = model
        let message = try Self.message(json)
        #expect(message == "test.json: model.type: found \"Unigram\", expected BPE (the only supported model type)")
    }

    @Test func unsupportedPreTokenizer() throws {
        var json = try Self.gpt2JSON()
        json["pre_tokenizer"] = ["type": "Digits", "individual_digits": true]
        let message = try Self.message(json)
        #expect(message.hasPrefix("test.json: pre_tokenizer.type: found \"Digits\", expected a supported pre-tokenizer"))
        json["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "ByteLevel"], ["type": "Metaspace", "replacement": "▁"]]]
        #expect(try Self.message(json) == "test.json: pre_tokenizer.pretokenizers[1].type: found \"Metaspace\" combined with another pre-tokenizer, expected Metaspace as the only pre-tokenizer")
    }

    @Test func unknownSplitRegex() throws {
        var json = try Self.gpt2JSON()
        json["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "\\d+"], "behavior": "Isolated", "invert": false]
        let message = try Self.message(json)
        #expect(message.hasPrefix("test.json: pre_tokenizer.pattern.Regex: found \"\\d+\""))
    }

    @Test func unsupportedDecoderAndNormalizer() throws {
        var json = try Self.gpt2JSON()
        json["decoder"] = ["type": "WordPiece"]
        #expect(try Self.message(json).hasPrefix("test.json: decoder.type: found \"WordPiece\""))
        json = try Self.gpt2JSON()
        json["normalizer"] = ["type": "Sequence", "normalizers": [["type": "BertNormalizer"]]]
        #expect(try Self.message(json).hasPrefix("test.json: normalizer.normalizers[0].type: found \"BertNormalizer\""))
    }

    @Test func mergeOutsideVocabulary() throws {
        var json = try Self.gpt2JSON()
        var model = try #require(json["model"] as? [String: Any])
        model["merges"] = ["Ġ Ġ", "zzq qzz"]
        json["model"] = model
        #expect(try Self.message(json).hasPrefix("test.json: model.merges[1]: found \"zzq qzz\""))
    }

    @Test func mergesAsPairsMatchStrings() throws {
        var json = try Self.gpt2JSON()
        var model = try #require(json["model"] as? [String: Any])
        let merges = try #require(model["merges"] as? [String])
        model["merges"] = merges.map { $0.split(separator: " ", maxSplits: 1).map(String.init) }
        json["model"] = model
        let pairs = try Tokenizer(tokenizerJSON: JSONSerialization.data(withJSONObject: json),
                                  tokenizerConfigJSON: nil, source: "pairs.json")
        let strings = try Fixtures.tokenizer("t1_gpt2")
        for c in try Fixtures.cases("t1_gpt2") {
            #expect(pairs.encode(c.text, addSpecialTokens: false) == strings.encode(c.text, addSpecialTokens: false))
        }
    }
}
