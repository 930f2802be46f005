import Speculation
import Tokenization

/// Everything the engine tracks for one live request.
/// A class: the engine mutates it in place every step (a struct in a dictionary would copy its token array).
final class RequestState {
    enum Phase: Equatable {
        case waiting
        case running
        case finished
    }

    let request: GenerationRequest
    var phase: Phase = .waiting
    /// Cache sequence while admitted.
    var sequence: Int?
    /// Prompt, then every generated token (produced elsewhere ones included).
    var tokens: [Int]
    /// Tokens whose keys and values are committed in the cache. While decoding this is
    /// `tokens.count - 1`: the last sampled token is the next step's input.
    var computed = 0
    /// Tokens generated for this request (including `producedIDs`).
    var generated: Int
    var sampler: Sampler
    /// Ids → text, stop strings, and ids held back with the text they complete.
    var output: OutputGate
    var speculation = SpeculationCounts()
    /// Admission order, to pick the youngest running request as the preemption victim.
    var admittedAt = 0
    /// N-gram statistics of prompt and output, when the request speculates.
    var draftState: RequestDraftState?
    var draftBackoff = DraftBackoff()

    init(request: GenerationRequest, tokenizer: Tokenizer) {
        self.request = request
        tokens = request.promptIDs + request.producedIDs
        generated = request.producedIDs.count
        sampler = Sampler(parameters: request.parameters, promptIDs: request.promptIDs)
        for token in request.producedIDs { sampler.record(token) }
        output = OutputGate(tokenizer: tokenizer, priorIDs: request.promptIDs + request.producedIDs, stopStrings: request.stopStrings)
        if request.speculation != .off {
            draftState = RequestDraftState(deferring: tokens.map { Int32($0) })
        }
    }

    /// Tokens the next step must feed before the request can sample again.
    var pendingInput: Int { tokens.count - computed }
    /// True once the whole prompt (and any resumed output) is in the cache.
    var isDecoding: Bool { phase == .running && pendingInput == 1 && computed > 0 }
}
