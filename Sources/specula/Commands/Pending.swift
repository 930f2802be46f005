import ArgumentParser

// Offline commands being built in this milestone; replaced file by file as they land.

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a synthetic checkpoint for benchmarks.")
    func run() throws { throw CLIError.notAvailableYet("synth") }
}
