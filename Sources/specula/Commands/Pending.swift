import ArgumentParser

// Offline commands being built in this milestone; replaced file by file as they land.

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate text from a prompt.")
    func run() throws { throw CLIError.notAvailableYet("generate") }
}

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the logits of a prompt.")
    func run() throws { throw CLIError.notAvailableYet("logits") }
}

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Encode text to token ids.")
    func run() throws { throw CLIError.notAvailableYet("tokenize") }
}

struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decode token ids to text.")
    func run() throws { throw CLIError.notAvailableYet("detokenize") }
}

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a synthetic checkpoint for benchmarks.")
    func run() throws { throw CLIError.notAvailableYet("synth") }
}
