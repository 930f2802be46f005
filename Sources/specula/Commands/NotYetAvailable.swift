import ArgumentParser

// Subcommands whose machinery later milestones build. Each parses its documented flags so scripts
// get the real `--help`, and refuses to run with a clear error rather than a fake result.

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks: kernels, engine, serve.",
        subcommands: [BenchKernels.self, BenchEngine.self, Serve.self])

    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serving benchmark against a running router.")
        @Option var url: String
        @Option var prompts: String
        func run() throws { throw CLIError.notAvailableYet("bench serve") }
    }
}
