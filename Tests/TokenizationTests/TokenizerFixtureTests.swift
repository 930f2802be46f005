import Foundation
import Testing
@testable import Tokenization

/// Every fixture case of every family must give HF's ids and texts exactly.
struct TokenizerFixtureTests {
    @Test(arguments: Fixtures.families)
    func encodeMatchesHF(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        let cases = try Fixtures.cases(family)
        #expect(cases.count == 60)
        var passed = 0
        for c in cases {
            let plain = tokenizer.encode(c.text, addSpecialTokens: false)
            let special = tokenizer.encode(c.text, addSpecialTokens: true)
            #expect(plain == c.ids, "\(family) encode \(c.text.debugDescription)")
            #expect(special == c.ids_add_special, "\(family) encode+special \(c.text.debugDescription)")
            if plain == c.ids && special == c.ids_add_special { passed += 1 }
        }
        #expect(passed == cases.count)
    }

    @Test(arguments: Fixtures.families)
    func decodeMatchesHF(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        for c in try Fixtures.cases(family) {
            #expect(tokenizer.decode(c.ids, skipSpecialTokens: false) == c.decode, "\(family) \(c.text.debugDescription)")
            #expect(tokenizer.decode(c.ids_add_special, skipSpecialTokens: false) == c.decode_add_special,
                    "\(family) \(c.text.debugDescription)")
            #expect(tokenizer.decode(c.ids_add_special, skipSpecialTokens: true) == c.decode_add_special_skip_special,
                    "\(family) \(c.text.debugDescription)")
        }
    }

    @Test func familyMetadata() throws {
        let gpt2 = try Fixtures.tokenizer("t1_gpt2")
        #expect(gpt2.vocabularySize == 1024)
        #expect(gpt2.bosTokenID == 1023 && gpt2.eosTokenIDs == [1023])
        #expect(gpt2.chatTemplate == nil)
        #expect(gpt2.isSpecial(1023) && !gpt2.isSpecial(5))

        let llama = try Fixtures.tokenizer("t2_llama3")
        #expect(llama.vocabularySize == 1536)
        #expect(llama.bosToken == "<|begin_of_text|>" && llama.bosTokenID == 1532)
        #expect(llama.eosToken == "<|end_of_text|>" && llama.eosTokenIDs == [1533])
        #expect(llama.chatTemplate?.hasPrefix("{{- bos_token }}") == true)
        #expect(llama.promptIDs("Hi") == llama.encode("Hi", addSpecialTokens: true))
        #expect(llama.promptIDs("Hi").first == 1532)

        let spm = try Fixtures.tokenizer("t3_spm")
        #expect(spm.tokenString(1) == "<s>" && spm.bosTokenID == 1 && spm.eosTokenIDs == [2])
        #expect(spm.tokenBytes(3) == [0x00] && spm.tokenBytes(258) == [0xFF])
        // add_bos_token is true, but the template already adds <s>: no second BOS.
        #expect(spm.promptIDs("Hi").prefix(2).filter { $0 == 1 }.count == 1)

        let qwen = try Fixtures.tokenizer("t2_qwen2")
        #expect(qwen.bosTokenID == nil && qwen.eosTokenIDs == [1277])
    }

    @Test func tokenJSONDataInitializerMatchesFolderLoad() throws {
        let folder = Fixtures.tokenizerFolder("t2_llama3")
        let tokenizer = try Tokenizer(
            tokenizerJSON: Data(contentsOf: folder.appendingPathComponent("tokenizer.json")),
            tokenizerConfigJSON: Data(contentsOf: folder.appendingPathComponent("tokenizer_config.json")),
            source: "t2_llama3")
        let loaded = try Fixtures.tokenizer("t2_llama3")
        for c in try Fixtures.cases("t2_llama3") {
            #expect(tokenizer.encode(c.text, addSpecialTokens: true) == loaded.encode(c.text, addSpecialTokens: true))
        }
        #expect(tokenizer.bosTokenID == 1532)
    }
}

/// Canonically equivalent but distinct characters (Kelvin sign vs K, Å vs Angstrom sign, composed vs
/// decomposed é) must stay distinct, as in HF (Swift `String` equality would merge them); Qwen2's NFC
/// normalizer is the one place they meet. Ids from HF tokenizers 0.23.3.
struct CanonicalEquivalenceTests {
    static let text = "K \u{212A} \u{00C5}\u{212B} e\u{0301} \u{00E9} \u{2126}"
    static let expected: [String: [Int]] = [
        "t1_gpt2": [42, 220, 158, 226, 103, 220, 127, 227, 158, 226, 104, 296, 136, 223, 220, 127, 102, 220, 158, 226, 99],
        "t2_llama3": [42, 220, 158, 226, 103, 220, 127, 227, 158, 226, 104, 295, 136, 223, 220, 127, 102, 220, 158, 226, 99],
        "t2_qwen2": [42, 220, 42, 220, 127, 227, 127, 227, 220, 127, 102, 220, 127, 102, 220, 138, 102],
        "t3_spm": [358, 301, 358, 229, 135, 173, 358, 198, 136, 229, 135, 174, 391, 207, 132, 358, 198, 172, 358, 229, 135, 169],
    ]

    @Test(arguments: Fixtures.families)
    func distinctScalarsStayDistinct(family: String) throws {
        let tokenizer = try Fixtures.tokenizer(family)
        #expect(tokenizer.encode(Self.text, addSpecialTokens: false) == Self.expected[family])
        let ids = try #require(Self.expected[family])
        #expect(Array(tokenizer.decode(ids, skipSpecialTokens: false).unicodeScalars) == Array(
            (family == "t2_qwen2" ? Self.text.precomposedStringWithCanonicalMapping : Self.text).unicodeScalars))
    }
}
