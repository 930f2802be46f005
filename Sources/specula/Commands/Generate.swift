import ArgumentParser
import Engine
import Foundation
import Tokenization

/// `specula generate`: one prompt, one completion (plain decoding; speculation arrives with the engine).
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text from a prompt.")

    @OptionGroup var modelOption: ModelOption
    @OptionGroup var activationsOption: ActivationsOption
    @Option(help: "Prompt text.") var prompt: String?
    @Option(help: "Read the prompt from this file.") var promptFile: String?
    @Option(help: "Start from these comma-separated token ids exactly (nothing added).") var ids: String?
    @Flag(inversion: .prefixedNo, help: "Start text prompts as the model expects (post-processor specials and BOS per the tokenizer config).")
    var special = true
    @Option(help: "Maximum tokens to generate.") var maxTokens: Int = 128
    @Flag(help: "Generate exactly --max-tokens tokens, ignoring end-of-sequence.") var ignoreEos = false
    @Option(help: "Sampling temperature (0 = greedy).") var temperature: Float = 0
    @Option(help: "Nucleus sampling: keep the most likely tokens up to this probability.") var topP: Float = 1
    @Option(help: "Keep the k most likely tokens (0 = all).") var topK: Int = 0
    @Option(help: "Drop tokens below this fraction of the most likely one.") var minP: Float = 0
    @Option(help: "Repetition penalty (1 = off).") var repetitionPenalty: Float = 1
    @Option(help: "Presence penalty.") var presencePenalty: Float = 0
    @Option(help: "Frequency penalty.") var frequencyPenalty: Float = 0
    @Option(help: "Random seed.") var seed: UInt64?
    @Option(help: "Stop when this string appears (repeatable); it is not printed.") var stop: [String] = []
    @Option(help: "Speculation: auto (the budget policy chooses), off, or a fixed draft count per step.")
    var speculate: String = "auto"
    @Option(help: "SSSD datastore file (default: the bundled corpus's, for models with the bundled tokenizer).")
    var datastore: String?
    @Option(help: "Compute threads (default: all cores).") var threads: Int?
    @Option(help: "KV cache budget in MB.") var kvCacheMb: Int = 256
    @Flag(help: "Print one JSON object instead of streaming text.") var json = false

    func run() throws {
        let mode = try SpeculationMode(parsing: speculate)
        guard maxTokens >= 0 else { throw CLIError("--max-tokens \(maxTokens) must be >= 0") }
        let loaded = try LoadedModel(path: try modelOption.resolvedPath(), threads: threads, kvCacheMB: kvCacheMb,
                                     activations: activationsOption.activations)
        let promptIDs = try promptTokenIDs(loaded.tokenizer)
        let parameters = SamplingParameters(
            temperature: temperature, topK: topK, topP: topP, minP: minP, repetitionPenalty: repetitionPenalty,
            presencePenalty: presencePenalty, frequencyPenalty: frequencyPenalty, seed: seed)
        try parameters.validate(vocabularySize: loaded.model.vocabularySize)

        let setup = mode == .off ? nil : try SpeculationAssets.setup(for: loaded, datastore: datastore) {
            FileHandleOutput.standardError.write($0 + "\n")
        }
        let engine = loaded.makeEngine(speculation: setup)
        let request = GenerationRequest(
            id: 1, promptIDs: promptIDs, parameters: parameters, maxTokens: maxTokens, stopStrings: stop,
            stopAtEOS: !ignoreEos, speculation: mode)
        let stream = json ? nil : FileHandleOutput.standardOutput
        let result = try GenerationResult.run(request, on: engine) { stream?.write($0) }
        if json {
            print(try JSONOutput.encode(result))
        } else if !result.text.hasSuffix("\n") {
            print()
        }
    }

    private func promptTokenIDs(_ tokenizer: Tokenizer) throws -> [Int] {
        if let ids {
            guard prompt == nil && promptFile == nil else { throw CLIError("give --ids or a prompt, not both") }
            return try parseTokenIDs(ids)
        }
        let text = try readInput(text: prompt, file: promptFile, name: "--prompt")
        return special ? tokenizer.promptIDs(text) : tokenizer.encode(text, addSpecialTokens: false)
    }
}
