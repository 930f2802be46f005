import Foundation
import ModelFormat
import Testing
@testable import Tokenization

/// GGUF vocabularies must encode and decode exactly like the tokenizer.json they were converted from.
struct GGUFTokenizerTests {
    static func gguf(_ name: String) -> String {
        Fixtures.root.appendingPathComponent("gguf/\(name).gguf").path
    }

    @Test(arguments: [("m1_llama_gqa_tied-f32", "t1_gpt2"), ("m1_llama_gqa_tied-q8_0", "t1_gpt2"),
                      ("m2_qwen2_bias-f32", "t2_llama3"), ("m2_qwen2_bias-q8_0", "t2_llama3")])
    func fixtureGGUFMatchesTokenizerJSON(file: String, family: String) throws {
        let fromGGUF = try Tokenizer.load(path: Self.gguf(file))
        let fromJSON = try Fixtures.tokenizer(family)
        for c in try Fixtures.cases(family) {
            #expect(fromGGUF.encode(c.text, addSpecialTokens: false) == c.ids, "\(file) \(c.text.debugDescription)")
            #expect(fromGGUF.encode(c.text, addSpecialTokens: true) == c.ids_add_special, "\(file) \(c.text.debugDescription)")
            #expect(fromGGUF.promptIDs(c.text) == fromJSON.promptIDs(c.text))
            #expect(fromGGUF.decode(c.ids_add_special, skipSpecialTokens: false) == c.decode_add_special)
            #expect(fromGGUF.decode(c.ids_add_special, skipSpecialTokens: true) == c.decode_add_special_skip_special)
        }
        #expect(fromGGUF.bosTokenID == fromJSON.bosTokenID && fromGGUF.eosTokenIDs == fromJSON.eosTokenIDs)
        #expect(fromGGUF.bosToken == fromJSON.bosToken && fromGGUF.eosToken == fromJSON.eosToken)
        #expect(fromGGUF.chatTemplate == fromJSON.chatTemplate)
        for id in 0..<fromJSON.vocabularySize {
            #expect(fromGGUF.isSpecial(id) == fromJSON.isSpecial(id))
            #expect(fromGGUF.tokenBytes(id) == fromJSON.tokenBytes(id))
        }
    }

    @Test func m2PaddedVocabulary() throws {
        let tokenizer = try Tokenizer.load(path: Self.gguf("m2_qwen2_bias-f32"))
        #expect(tokenizer.vocabularySize == 1664)
        #expect(tokenizer.tokenString(1663) == "[PAD1663]" && !tokenizer.isSpecial(1663))
        #expect(tokenizer.encode("[PAD1600]", addSpecialTokens: false) != [1600])
    }

    @Test(arguments: ["pycode-6m-f32", "pycode-6m-f16"])
    func pycodeGGUFMatchesTokenizerJSON(file: String) throws {
        let path = Fixtures.root.appendingPathComponent("pycode-6m/\(file).gguf").path
        let fromGGUF = try Tokenizer.load(path: path)
        let fromJSON = try Tokenizer.load(path: Fixtures.pycodeFolder.path)
        for c in try Fixtures.pycodeCases() {
            #expect(fromGGUF.encode(c.text, addSpecialTokens: false) == c.ids, "\(c.text.debugDescription)")
            #expect(fromGGUF.promptIDs(c.text) == fromJSON.promptIDs(c.text))
            #expect(fromGGUF.decode(c.ids, skipSpecialTokens: false) == c.text)
        }
        for name in ["prompt-short", "prompt-heldout-300", "prompt-unicode"] {
            let prompt = try Fixtures.prompt(name)
            #expect(fromGGUF.promptIDs(prompt.prompt) == prompt.input_ids)
        }
        #expect(fromGGUF.bosTokenID == 0 && fromGGUF.eosTokenIDs == [0] && fromGGUF.vocabularySize == 4096)
    }

    /// GGUF metadata assembled from a tokenizer.json the way convert_hf_to_gguf.py writes it.
    static func metadata(fromTokenizerJSON family: String, pre: String) throws -> [String: GGUFValue] {
        let url = Fixtures.tokenizerFolder(family).appendingPathComponent("tokenizer.json")
        let root = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let model = try #require(root["model"] as? [String: Any])
        let vocab = try #require(model["vocab"] as? [String: Int])
        var tokens = [String](repeating: "", count: vocab.count)
        for (token, id) in vocab { tokens[id] = token }
        var types = [Int](repeating: 1, count: tokens.count)
        for added in try #require(root["added_tokens"] as? [[String: Any]]) {
            types[try #require(added["id"] as? Int)] = (added["special"] as? Bool) == true ? 3 : 4
        }
        let merges = try #require(model["merges"] as? [String])
        return [
            "tokenizer.ggml.model": .string("gpt2"),
            "tokenizer.ggml.pre": .string(pre),
            "tokenizer.ggml.tokens": .array(tokens.map { .string($0) }),
            "tokenizer.ggml.token_type": .array(types.map { .int32(Int32($0)) }),
            "tokenizer.ggml.merges": .array(merges.map { .string($0) }),
            "tokenizer.ggml.eos_token_id": .uint32(1277),
            "tokenizer.ggml.add_bos_token": .bool(false),
            "tokenizer.chat_template": .string("{{ messages }}"),
        ]
    }

    @Test func qwen2PreTypeFromMetadata() throws {
        let metadata = try Self.metadata(fromTokenizerJSON: "t2_qwen2", pre: "qwen2")
        let tokenizer = try Tokenizer(ggufMetadata: metadata, source: "qwen2.gguf")
        for c in try Fixtures.cases("t2_qwen2") {
            #expect(tokenizer.encode(c.text, addSpecialTokens: false) == c.ids, "\(c.text.debugDescription)")
            #expect(tokenizer.encode(c.text, addSpecialTokens: true) == c.ids_add_special)
            #expect(tokenizer.decode(c.ids, skipSpecialTokens: false) == c.decode)
        }
        #expect(tokenizer.eosTokenIDs == [1277] && tokenizer.eosToken == "<|endoftext|>")
        #expect(tokenizer.chatTemplate == "{{ messages }}")
    }

    @Test func metadataErrors() throws {
        var metadata = try Self.metadata(fromTokenizerJSON: "t2_qwen2", pre: "qwen2")
        metadata["tokenizer.ggml.model"] = .string("bert")
        let unsupported = #expect(throws: TokenizationError.self) { try Tokenizer(ggufMetadata: metadata, source: "x.gguf") }
        #expect(unsupported?.description.hasPrefix("x.gguf: tokenizer.ggml.model: found \"bert\"") == true)

        metadata = try Self.metadata(fromTokenizerJSON: "t2_qwen2", pre: "deepseek-coder")
        let pre = #expect(throws: TokenizationError.self) { try Tokenizer(ggufMetadata: metadata, source: "x.gguf") }
        #expect(pre?.description == "x.gguf: tokenizer.ggml.pre: found \"deepseek-coder\", expected \"gpt-2\", \"llama-bpe\" or \"qwen2\"")

        metadata["tokenizer.ggml.pre"] = .string("qwen2")
        metadata["tokenizer.ggml.tokens"] = nil
        let missing = #expect(throws: TokenizationError.self) { try Tokenizer(ggufMetadata: metadata, source: "x.gguf") }
        #expect(missing?.description == "x.gguf: tokenizer.ggml.tokens: found nothing, expected an array of strings")
    }

    @Test func unreadableGGUFFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).gguf")
        try Data("not a gguf".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = #expect(throws: TokenizationError.self) { try Tokenizer.load(path: url.path) }
        #expect(error?.description.hasPrefix(url.path) == true)
    }
}

/// GGUF SentencePiece ("llama") vocabularies: the t3 tokenizer written as a SentencePiece model would
/// carry it (scores falling with merge order, byte and control tokens typed) must encode like t3's
/// tokenizer.json.
struct GGUFSentencePieceTests {
    static func metadata() throws -> [String: GGUFValue] {
        let url = Fixtures.tokenizerFolder("t3_spm").appendingPathComponent("tokenizer.json")
        let root = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let model = try #require(root["model"] as? [String: Any])
        let vocab = try #require(model["vocab"] as? [String: Int])
        var tokens = [String](repeating: "", count: vocab.count)
        for (token, id) in vocab { tokens[id] = token }
        var scores = [Float](repeating: 0, count: tokens.count)
        for (rank, merge) in try #require(model["merges"] as? [String]).enumerated() {
            let merged = merge.replacingOccurrences(of: " ", with: "")
            scores[try #require(vocab[merged])] = -Float(rank + 1)
        }
        let types = tokens.enumerated().map { id, token -> Int32 in
            if id == 0 { return 2 }
            if id <= 2 { return 3 }
            return Decoder.fallbackByte(token) != nil ? 6 : 1
        }
        return [
            "tokenizer.ggml.model": .string("llama"),
            "tokenizer.ggml.tokens": .array(tokens.map { .string($0) }),
            "tokenizer.ggml.scores": .array(scores.map { .float32($0) }),
            "tokenizer.ggml.token_type": .array(types.map { .int32($0) }),
            "tokenizer.ggml.bos_token_id": .uint32(1),
            "tokenizer.ggml.eos_token_id": .uint32(2),
            "tokenizer.ggml.unknown_token_id": .uint32(0),
            "tokenizer.ggml.add_bos_token": .bool(true),
        ]
    }

    @Test func encodesLikeTokenizerJSON() throws {
        let tokenizer = try Tokenizer(ggufMetadata: try Self.metadata(), source: "spm.gguf")
        let reference = try Fixtures.tokenizer("t3_spm")
        for c in try Fixtures.cases("t3_spm") {
            #expect(tokenizer.encode(c.text, addSpecialTokens: false) == c.ids, "\(c.text.debugDescription)")
            #expect(tokenizer.encode(c.text, addSpecialTokens: true) == c.ids_add_special)
            #expect(tokenizer.decode(c.ids_add_special, skipSpecialTokens: false) == c.decode_add_special)
            #expect(tokenizer.decode(c.ids_add_special, skipSpecialTokens: true) == c.decode_add_special_skip_special)
            #expect(tokenizer.promptIDs(c.text) == reference.promptIDs(c.text))
        }
        let stress = try HFReferenceTests.text(HFReference.stressText)
        #expect(tokenizer.encode(stress, addSpecialTokens: false) == HFReferenceTests.ids(HFReference.stressIDs["t3_spm"]!))
        #expect(tokenizer.bosTokenID == 1 && tokenizer.eosTokenIDs == [2] && tokenizer.bosToken == "<s>")
        #expect(tokenizer.tokenBytes(3) == [0] && tokenizer.tokenBytes(tokenizer.encode("▁", addSpecialTokens: false).last!) == [0x20])
    }

    @Test func scoresAreRequired() throws {
        var metadata = try Self.metadata()
        metadata["tokenizer.ggml.scores"] = .array([.float32(0)])
        let error = #expect(throws: TokenizationError.self) { try Tokenizer(ggufMetadata: metadata, source: "spm.gguf") }
        #expect(error?.description == "spm.gguf: tokenizer.ggml.scores: found an array of 1, expected an array of 1024 numbers (one per token)")
    }
}
