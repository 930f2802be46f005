import Engine
import Foundation

/// `specula generate --json`'s object (INTERFACES.md), filled from one request's engine events.
struct GenerationResult: Encodable {
    struct Speculation: Encodable {
        var steps = 0
        var draft_tokens = 0
        var accepted_tokens = 0
        var mean_accepted_length = 1.0
    }

    var text = ""
    var ids: [Int] = []
    var prompt_tokens = 0
    var completion_tokens = 0
    var finish_reason = ""
    var seconds = 0.0
    var speculation = Speculation()

    /// Runs one request to completion on `engine`, streaming text through `onText`.
    static func run(_ request: GenerationRequest, on engine: InferenceEngine,
                    onText: (String) -> Void) throws -> GenerationResult {
        let started = Date()
        var result = GenerationResult()
        var events = engine.submit(request)
        var message: String?
        while true {
            for event in events {
                switch event {
                case let .tokens(_, ids, text, _):
                    result.ids += ids
                    result.text += text
                    onText(text)
                case let .finished(_, reason, usage, speculation, why):
                    result.finish_reason = reason.rawValue
                    result.prompt_tokens = usage.promptTokens
                    result.completion_tokens = usage.completionTokens
                    result.speculation = Speculation(
                        steps: speculation.steps, draft_tokens: speculation.draftTokens,
                        accepted_tokens: speculation.acceptedTokens,
                        mean_accepted_length: speculation.meanAcceptedLength)
                    message = why
                }
            }
            guard engine.hasWork else { break }
            events = engine.step()
        }
        if result.finish_reason == FinishReason.error.rawValue {
            throw CLIError(message ?? "the request failed")
        }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }
}
