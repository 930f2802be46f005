import ArgumentParser
import Foundation
import Tokenization

/// `specula logits`: the model's logits for a prompt, to compare against a reference implementation.
struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the logits of a prompt (last position in full, top 5 at every position).")

    @OptionGroup var modelOption: ModelOption
    @OptionGroup var activationsOption: ActivationsOption
    @Option(help: "Text to encode.") var text: String?
    @Option(help: "Comma-separated token ids (used exactly, nothing added).") var ids: String?
    @Flag(help: "Start the text as generation does: the post-processor's special tokens, and BOS when the tokenizer config asks for it.")
    var special = false
    @Flag(help: "Print {\"ids\", \"last_logits\", \"top5\"} as JSON.") var json = false

    struct Entry: Encodable { let id: Int; let logit: Float }
    struct Output: Encodable {
        let ids: [Int]
        let last_logits: [Float]
        let top5: [[Entry]]
    }

    func run() throws {
        let loaded = try LoadedModel(path: try modelOption.resolvedPath(), activations: activationsOption.activations)
        let tokenIDs: [Int]
        switch (text, ids) {
        case let (text?, nil):
            tokenIDs = special ? loaded.tokenizer.promptIDs(text) : loaded.tokenizer.encode(text, addSpecialTokens: false)
        case let (nil, ids?):
            tokenIDs = try parseTokenIDs(ids)
        default:
            throw CLIError("give exactly one of --text or --ids")
        }
        guard !tokenIDs.isEmpty else { throw CLIError("the prompt is empty: nothing to compute logits for") }
        if let bad = tokenIDs.first(where: { $0 >= loaded.model.vocabularySize }) {
            throw CLIError("token id \(bad) is out of range (the model has \(loaded.model.vocabularySize) ids)")
        }
        var top5: [[Entry]] = []
        var last: [Float] = []
        let sequence = loaded.cache.createSequence()
        try loaded.prefill(tokenIDs, sequence: sequence, allLogits: true) { position, logits in
            let order = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
            top5.append(order.prefix(5).map { Entry(id: $0, logit: logits[$0]) })
            if position == tokenIDs.count - 1 { last = Array(logits) }
        }
        if json {
            print(try JSONOutput.encode(Output(ids: tokenIDs, last_logits: last, top5: top5)))
        } else {
            print("ids: \(tokenIDs.map(String.init).joined(separator: ","))")
            for entry in top5.last ?? [] {
                let piece = loaded.tokenizer.decode([entry.id], skipSpecialTokens: false)
                print("\(entry.id)\t\(entry.logit)\t\(piece.debugDescription)")
            }
        }
    }
}
