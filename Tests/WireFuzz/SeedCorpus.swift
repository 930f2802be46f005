import Foundation
import NIOCore
import Wire

/// Valid frame streams to start the fuzzer from: each message alone, compressed and not, and one
/// stream with all of them (so later frames reference earlier ones in the zstd stream).
enum SeedCorpus {
    static var messages: [WireMessage] {
        let assignment = Assignment(
            requestID: 77, timeoutMilliseconds: 1000,
            prompt: .chat([ChatMessage(role: "user", content: "def fib(n):")]), producedTokenIDs: [1, 2],
            sampling: SamplingParameters(temperature: 0.5, topK: 3, logitBias: [1: 2], seed: 9),
            maxTokens: 64, stopStrings: ["\n\n"], ignoreEOS: false, speculation: .fixed(3))
        return [
            .hello(Hello(minVersion: 1, maxVersion: 1, challenge: Array(repeating: 1, count: 32))),
            .authenticate(Authenticate(version: 1, challenge: Array(repeating: 2, count: 32), proof: Array(repeating: 3, count: 32), workerName: "w")),
            .welcome(Welcome(proof: Array(repeating: 4, count: 32))),
            .register(Register(modelID: "m", contextLength: 2048, maxBatchSequences: 8, kvCapacityTokens: 4096,
                               maxPromptTokens: 2000, maxOutputTokens: 512, supportsSpeculation: true)),
            .registration(Registration(accepted: false, reason: "no")),
            .credits(Credits(count: 4)),
            .assign(assignment),
            .assign(Assignment(requestID: 78, prompt: .tokens([5, 6, 7]), maxTokens: 8, speculation: .auto(cap: 4))),
            .assign(Assignment(requestID: 79, prompt: .text("print("), maxTokens: 8, speculation: .off)),
            .tokens(TokenEvent(requestID: 77, tokenIDs: [10, 11], text: "ab")),
            .assign(Assignment(requestID: 82, prompt: .text("x"), maxTokens: 8, logprobs: 2)),
            .tokens(TokenEvent(requestID: 82, tokenIDs: [10], text: "a", logprobs: [
                TokenLogprobs(logprob: -0.5, bytes: [0x61], top: [LogprobAlternative(tokenID: 10, logprob: -0.5, bytes: [0x61]),
                                                                  LogprobAlternative(tokenID: 12, logprob: -2, bytes: [0xC3])]),
            ])),
            // More logprobs shapes: no alternatives, the most allowed, a resumed request, several
            // tokens per frame (empty bytes, the −9999 floor), and a frame without ids but with the section.
            .assign(Assignment(requestID: 83, prompt: .tokens([5]), producedTokenIDs: [9, 10], maxTokens: 8, logprobs: 0)),
            .assign(Assignment(requestID: 84, prompt: .text("y"), maxTokens: 8, speculation: .fixed(2), logprobs: UInt8(TokenLogprobs.maxAlternatives))),
            .tokens(TokenEvent(requestID: 83, tokenIDs: [10, 11, 12], text: "abc", logprobs: [
                TokenLogprobs(logprob: 0, bytes: [0x61]),
                TokenLogprobs(logprob: -9999, bytes: []),
                TokenLogprobs(logprob: -1.25, bytes: [0xE2, 0x82], top: [LogprobAlternative(tokenID: 12, logprob: -1.25, bytes: [0xE2, 0x82])]),
            ])),
            .tokens(TokenEvent(requestID: 84, tokenIDs: [], text: "", logprobs: [])),
            .finish(Finish(requestID: 77, reason: .stop, promptTokens: 5, completionTokens: 2,
                           speculation: SpeculationCounts(drafts: 1, draftTokens: 3, acceptedTokens: 2, steps: 2, acceptedPerPosition: [1, 1]))),
            .cancel(Cancel(requestID: 78)),
            .tokenize(TokenizeRequest(requestID: 80, addSpecialTokens: true, prompt: .text("def f():"))),
            .detokenize(DetokenizeRequest(requestID: 81, tokenIDs: [5, 6])),
            .tokenization(TokenizationResult(requestID: 80, tokenIDs: [0, 5])),
            .heartbeat(Heartbeat(sequence: 1)),
            .drain(Drain(reason: "bye")),
            .error(ErrorMessage(code: .requestFailed, requestID: 78, message: "x")),
        ]
    }

    static func write(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var streams: [(String, [WireMessage], Int?)] = []
        for (index, message) in messages.enumerated() {
            streams.append(("plain-\(index)-\(message.type)", [message], nil))
            streams.append(("zstd-\(index)-\(message.type)", [message], 0))
        }
        streams.append(("stream-all", messages + messages, 0))
        for (name, stream, threshold) in streams {
            var encoder = try WireEncoder(compressionThreshold: threshold)
            var bytes = ByteBuffer(bytes: [UInt8(16)])   // first byte: feed in chunks of 17 bytes
            for message in stream { try encoder.encode(message, into: &bytes) }
            try Data(bytes.readableBytesView).write(to: folder.appendingPathComponent(name))
        }
    }
}
