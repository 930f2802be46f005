import Wire

/// One instance of every message, with non-default values in every field.
enum Samples {
    static let challenge = (0..<32).map { UInt8($0 * 7 & 0xFF) }

    static let assignment = Assignment(
        requestID: 0x0102_0304_0506_0708, timeoutMilliseconds: 30_000,
        prompt: .chat([ChatMessage(role: "system", content: "You write Python."), ChatMessage(role: "user", content: "def fib(n): ✓")]),
        producedTokenIDs: [17, 4_000_000_000, 0],
        sampling: SamplingParameters(temperature: 0.7, topK: 40, topP: 0.9, minP: 0.05, repetitionPenalty: 1.1,
                                     presencePenalty: -0.5, frequencyPenalty: 0.25, logitBias: [5: -100, 7: 2.5, 1: 0],
                                     seed: 0xDEAD_BEEF_CAFE),
        maxTokens: 512, stopStrings: ["\n\n", "```"], ignoreEOS: true, speculation: .auto(cap: 8))

    /// Two tokens with logprobs: one valid UTF-8 piece with two alternatives (one of them half a
    /// character), one piece that is a lone continuation byte, with the floor value and none.
    static let tokensWithLogprobs = TokenEvent(requestID: 9, tokenIDs: [10, 4_000_000_000], text: "deé", logprobs: [
        TokenLogprobs(logprob: -0.25, bytes: Array("de".utf8), top: [
            LogprobAlternative(tokenID: 10, logprob: -0.25, bytes: Array("de".utf8)),
            LogprobAlternative(tokenID: 77, logprob: -1.5, bytes: [0xC3]),
        ]),
        TokenLogprobs(logprob: -9999, bytes: [0xA9]),
    ])

    static var all: [WireMessage] {
        [
            .hello(Hello(minVersion: 1, maxVersion: 3, challenge: challenge)),
            .authenticate(Authenticate(version: 1, challenge: challenge.reversed(), proof: Array(repeating: 0xAB, count: 32), workerName: "worker-α")),
            .welcome(Welcome(proof: Array(repeating: 0x5A, count: 32))),
            .register(Register(modelID: "pycode-6m", contextLength: 2048, maxBatchSequences: 32, kvCapacityTokens: 65_536,
                               maxPromptTokens: 1_920, maxOutputTokens: 1_024, supportsSpeculation: true)),
            .registration(Registration(accepted: true)),
            .registration(Registration(accepted: false, reason: "model 'x' is not served here")),
            .credits(Credits(count: 7)),
            .assign(assignment),
            .assign(Assignment(requestID: 1, prompt: .text("import numpy as np\n"), maxTokens: 16, speculation: .off)),
            .assign(Assignment(requestID: 2, prompt: .tokens([1, 2, 3, 65_535]), sampling: SamplingParameters(temperature: 0),
                               maxTokens: 1, speculation: .fixed(4))),
            .assign(Assignment(requestID: 3, prompt: .text(""), maxTokens: 0, speculation: .auto(cap: nil))),
            .tokens(TokenEvent(requestID: 9, tokenIDs: [10, 11, 12], text: "def f")),
            .tokens(TokenEvent(requestID: 9, tokenIDs: [], text: "")),
            .assign(Assignment(requestID: 4, prompt: .text("x"), maxTokens: 8, logprobs: 0)),
            .assign(Assignment(requestID: 5, prompt: .chat([ChatMessage(role: "user", content: "hi")]), maxTokens: 8, logprobs: 20)),
            .tokens(tokensWithLogprobs),
            .tokens(TokenEvent(requestID: 9, tokenIDs: [], text: "", logprobs: [])),
            .finish(Finish(requestID: 9, reason: .stop, promptTokens: 300, completionTokens: 120,
                           speculation: SpeculationCounts(drafts: 40, draftTokens: 200, acceptedTokens: 90, steps: 60,
                                                          acceptedPerPosition: [35, 25, 15, 10, 5]))),
            .finish(Finish(requestID: 10, reason: .error, promptTokens: 5000, completionTokens: 0,
                           errorMessage: "prompt of 5000 tokens exceeds the context length 2048")),
            .finish(Finish(requestID: 11, reason: .cancelled, promptTokens: 1, completionTokens: 2)),
            .finish(Finish(requestID: 12, reason: .length, promptTokens: 1, completionTokens: 2)),
            .cancel(Cancel(requestID: .max)),
            .tokenize(TokenizeRequest(requestID: 20, addSpecialTokens: true, addGenerationPrompt: false, prompt: .text("import os ✓"))),
            .tokenize(TokenizeRequest(requestID: 21, addSpecialTokens: false, prompt: .chat([ChatMessage(role: "user", content: "hi")]))),
            .detokenize(DetokenizeRequest(requestID: 22, skipSpecialTokens: true, tokenIDs: [0, 520, 4_000_000_000])),
            .tokenization(TokenizationResult(requestID: 20, tokenIDs: [0, 1, 2])),
            .tokenization(TokenizationResult(requestID: 22, text: "def f(x): ✓")),
            .tokenization(TokenizationResult(requestID: 23, errorMessage: "token id 9999 is outside the vocabulary [0, 4096)")),
            .heartbeat(Heartbeat(sequence: 42)),
            .heartbeat(Heartbeat(sequence: 42, isReply: true)),
            .drain(Drain(reason: "SIGTERM")),
            .error(ErrorMessage(code: .requestFailed, requestID: 9, message: "out of KV cache")),
            .error(ErrorMessage(code: .malformedFrame, message: "assign.top_p: float is nan")),
            .error(ErrorMessage(code: WireError.Code(rawValue: 999), message: "a code from a later version")),
        ]
    }
}
