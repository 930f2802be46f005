import Foundation
import Testing
@testable import Tokenization

/// The bundled model's tokenizer against its reference encodings and prompts.
struct PycodeTokenizerTests {
    @Test func referenceCases() throws {
        let tokenizer = try Tokenizer.load(path: Fixtures.pycodeFolder.path)
        let cases = try Fixtures.pycodeCases()
        #expect(cases.count == 50)
        for c in cases {
            #expect(tokenizer.encode(c.text, addSpecialTokens: false) == c.ids, "\(c.text.debugDescription)")
            #expect(tokenizer.decode(c.ids, skipSpecialTokens: false) == c.text)
        }
    }

    @Test(arguments: ["prompt-short", "prompt-heldout-300", "prompt-unicode"])
    func promptIDsPrependBOS(name: String) throws {
        let tokenizer = try Tokenizer.load(path: Fixtures.pycodeFolder.path)
        let prompt = try Fixtures.prompt(name)
        #expect(tokenizer.encode(prompt.prompt, addSpecialTokens: true) == prompt.prompt_token_ids)
        #expect(tokenizer.promptIDs(prompt.prompt) == prompt.input_ids)
        #expect(tokenizer.promptIDs(prompt.prompt).first == 0)
        #expect(tokenizer.bosTokenID == 0 && tokenizer.eosTokenIDs == [0])
        #expect(tokenizer.vocabularySize == 4096)
    }

    @Test func tokenizerJSONFileLoadsItsFolderConfig() throws {
        let file = Fixtures.pycodeFolder.appendingPathComponent("tokenizer.json").path
        let tokenizer = try Tokenizer.load(path: file)
        #expect(tokenizer.promptIDs("def f():").first == 0)
    }
}
