import Foundation
import ArgumentParser
import Kernels

/// `--model PATH`: a Hugging Face folder or a `.gguf` file; the bundled default model when absent.
struct ModelOption: ParsableArguments {
    @Option(name: .long, help: "Hugging Face model folder or .gguf file (default: the bundled pycode-6m).")
    var model: String?

    func resolvedPath() throws -> String {
        if let model { return model }
        return try BundledAssets.defaultModelPath
    }
}

extension ActivationPrecision: ExpressibleByArgument {}

/// `--activations f32|bf16`: the numerics of matrix products (see `ActivationPrecision`).
struct ActivationsOption: ParsableArguments {
    @Option(help: ArgumentHelp("Activations in matrix products: f32 (reference numerics) or bf16 (bf16 weights on AVX512-BF16 CPUs: twice the multiply-adds per instruction, activations rounded to bf16).",
                               valueName: "f32|bf16"))
    var activations: ActivationPrecision = .f32
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
