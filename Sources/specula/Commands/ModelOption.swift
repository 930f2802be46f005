import Foundation
import ArgumentParser

/// `--model PATH`: a Hugging Face folder or a `.gguf` file; the bundled default model when absent.
struct ModelOption: ParsableArguments {
    @Option(name: .long, help: "Hugging Face model folder or .gguf file (default: the bundled pycode-6m).")
    var model: String?

    func resolvedPath() throws -> String {
        if let model { return model }
        return try BundledAssets.defaultModelPath
    }
}

/// Parses `1,2,3` (spaces allowed) into token ids, naming the bad element on failure.
func parseTokenIDs(_ text: String) throws -> [Int] {
    try text.split(separator: ",").map { part in
        let trimmed = part.trimmingCharacters(in: .whitespaces)
        guard let id = Int(trimmed), id >= 0 else {
            throw CLIError("--ids: '\(trimmed)' is not a token id (expected comma-separated non-negative integers)")
        }
        return id
    }
}
