import Engine
import Foundation
import Testing
import Tokenization
import Wire
@testable import WorkerCore

/// Assignments become engine requests with the bundled model's real tokenizer.
@Suite struct WorkerModelTests {
    static let modelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/specula/Resources/models/pycode-6m").path

    let tokenizer: Tokenizer
    let model: WorkerModel

    init() throws {
        tokenizer = try Tokenizer.load(path: Self.modelPath)
        model = WorkerModel(id: "pycode-6m", tokenizer: tokenizer, vocabularySize: tokenizer.vocabularySize,
                            contextLength: 64, kvCapacityTokens: 1024, supportsSpeculation: false)
    }

    @Test func textPromptsUseThePromptEncoding() throws {
        let assignment = Assignment(requestID: 3, prompt: .text("def add(a, b):"), sampling: Wire.SamplingParameters(temperature: 0),
                                    maxTokens: 10, stopStrings: ["\n\n"], ignoreEOS: true, speculation: .fixed(3))
        let request = try model.request(for: assignment, engineID: 42)
        #expect(request.id == 42)
        #expect(request.promptIDs == tokenizer.promptIDs("def add(a, b):"))
        #expect(request.maxTokens == 10 && request.stopStrings == ["\n\n"] && !request.stopAtEOS)
        #expect(request.parameters.isGreedy)
        #expect(request.speculation == .off, "a worker without a drafter runs everything with speculation off")
    }

    @Test func speculationPassesThroughWhenSupported() throws {
        var drafting = model
        drafting.supportsSpeculation = true
        let assignment = Assignment(requestID: 1, prompt: .tokens([1, 2, 3]), maxTokens: 4, speculation: .auto(cap: 2))
        #expect(try drafting.request(for: assignment, engineID: 1).speculation == .auto(cap: 2))
    }

    @Test func chatPromptsRenderTheTemplate() throws {
        let messages = [Wire.ChatMessage(role: "user", content: "hello")]
        let assignment = Assignment(requestID: 1, prompt: .chat(messages), maxTokens: 4)
        if let source = tokenizer.chatTemplate {
            let rendered = try ChatTemplate(source: source).render(
                messages: [Tokenization.ChatMessage(role: "user", content: "hello")], addGenerationPrompt: true,
                bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken)
            #expect(try model.request(for: assignment, engineID: 1).promptIDs == tokenizer.encode(rendered, addSpecialTokens: false))
        } else {
            #expect(try model.request(for: assignment, engineID: 1).promptIDs == tokenizer.promptIDs("hello"),
                    "without a template, a one-message chat is the completion prompt of its content")
        }
    }

    @Test func chatWithoutTemplateJoinsContentsByNewlines() throws {
        guard tokenizer.chatTemplate == nil else { return }
        let messages = [Wire.ChatMessage(role: "system", content: "# utils"), Wire.ChatMessage(role: "user", content: "def f():")]
        let assignment = Assignment(requestID: 1, prompt: .chat(messages), maxTokens: 4)
        #expect(try model.request(for: assignment, engineID: 1).promptIDs == tokenizer.promptIDs("# utils\ndef f():"))
    }

    @Test func tokenizeAndDetokenizeAnswerTheRouter() throws {
        let text = "def fibonacci(n):"
        let ids = tokenizer.promptIDs(text).map { UInt32($0) }
        #expect(model.answer(TokenizeRequest(requestID: 5, addSpecialTokens: true, prompt: .text(text)))
                == TokenizationResult(requestID: 5, tokenIDs: ids))
        let plain = tokenizer.encode(text, addSpecialTokens: false).map { UInt32($0) }
        #expect(model.answer(TokenizeRequest(requestID: 6, addSpecialTokens: false, prompt: .text(text))).tokenIDs == plain)
        #expect(model.answer(TokenizeRequest(requestID: 7, addSpecialTokens: false, prompt: .chat([Wire.ChatMessage(role: "user", content: text)])))
                .tokenIDs == ids, "the chat of one message tokenizes like generation's prompt")
        #expect(model.answer(DetokenizeRequest(requestID: 8, skipSpecialTokens: true, tokenIDs: ids)) == TokenizationResult(requestID: 8, text: text))
        let bad = model.answer(DetokenizeRequest(requestID: 9, tokenIDs: [UInt32(tokenizer.vocabularySize)]))
        #expect(bad.requestID == 9 && bad.text.isEmpty && bad.errorMessage.contains("outside the vocabulary"))
    }

    @Test func badRequestsAreRefusedWithAReason() {
        func message(_ assignment: Assignment) -> String {
            do {
                _ = try model.request(for: assignment, engineID: 1)
                return ""
            } catch {
                return "\(error)"
            }
        }
        let vocabulary = UInt32(tokenizer.vocabularySize)
        #expect(message(Assignment(requestID: 1, prompt: .tokens([vocabulary]), maxTokens: 4)).contains("outside the vocabulary"))
        #expect(message(Assignment(requestID: 1, prompt: .tokens([]), maxTokens: 4)).contains("empty"))
        #expect(message(Assignment(requestID: 1, prompt: .tokens(Array(repeating: 5, count: 64)), maxTokens: 4)).contains("at most 63"))
        #expect(message(Assignment(requestID: 1, prompt: .tokens([5]), producedTokenIDs: Array(repeating: 5, count: 63), maxTokens: 99))
            .contains("fill the context"))
        #expect(message(Assignment(requestID: 1, prompt: .tokens([5]), sampling: Wire.SamplingParameters(topP: 0), maxTokens: 4))
            .contains("top_p"))
    }

    @Test func registerCarriesTheLimits() {
        let register = model.register(capacity: 4)
        #expect(register == Register(modelID: "pycode-6m", contextLength: 64, maxBatchSequences: 4, kvCapacityTokens: 1024,
                                     maxPromptTokens: 63, maxOutputTokens: 63, supportsSpeculation: false))
    }
}
