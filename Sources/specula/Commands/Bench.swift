import ArgumentParser

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks: kernels, engine, serve.",
        subcommands: [BenchKernels.self, BenchEngine.self, BenchServe.self])
}
