import Foundation
import Testing
@testable import Tokenization

/// Metaspace pre-tokenizer and decoder (newer Llama/Mistral tokenizer.json files) against HF.
struct MetaspaceTests {
    struct Reference: Decodable {
        struct Case: Decodable {
            let ids: [Int]
            let decode: String
            let decode_skip: String
        }
        struct Variant: Decodable {
            let cases: [Case]
        }
        let texts: [String]
        let variants: [Variant]
    }

    static func load() throws -> (Reference, [[String: Any]]) {
        let data = try #require(Data(base64Encoded: MetaspaceReference.json))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        let raw = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (reference, try #require(raw["variants"] as? [[String: Any]]))
    }

    static func tokenizer(preTokenizer: Any, decoder: Any) throws -> Tokenizer {
        let url = Fixtures.tokenizerFolder("t3_spm").appendingPathComponent("tokenizer.json")
        var root = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        root["normalizer"] = NSNull()
        root["pre_tokenizer"] = preTokenizer
        root["decoder"] = decoder
        return try Tokenizer(tokenizerJSON: JSONSerialization.data(withJSONObject: root), tokenizerConfigJSON: nil,
                             source: "t3+metaspace")
    }

    @Test(arguments: 0..<4)
    func variantMatchesHF(index: Int) throws {
        let (reference, raw) = try Self.load()
        let variant = reference.variants[index]
        let tokenizer = try Self.tokenizer(preTokenizer: raw[index]["pre_tokenizer"] as Any, decoder: raw[index]["decoder"] as Any)
        #expect(variant.cases.count == reference.texts.count)
        for (text, c) in zip(reference.texts, variant.cases) {
            #expect(tokenizer.encode(text, addSpecialTokens: true) == c.ids, "variant \(index) \(text.prefix(40).debugDescription)")
            #expect(tokenizer.decode(c.ids, skipSpecialTokens: false) == c.decode, "variant \(index) \(text.prefix(40).debugDescription)")
            #expect(tokenizer.decode(c.ids, skipSpecialTokens: true) == c.decode_skip, "variant \(index) \(text.prefix(40).debugDescription)")
            let streamed = StreamingDetokenizerTests.stream(tokenizer, c.ids, skip: true).joined()
            #expect(streamed == c.decode_skip, "variant \(index) stream \(text.prefix(40).debugDescription)")
        }
    }
}
