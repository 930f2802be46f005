import ArgumentParser

// Subcommands whose machinery later milestones build. Each parses its documented flags so scripts
// get the real `--help`, and refuses to run with a clear error rather than a fake result.

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a router and N worker processes on this machine (the bundled model by default).")
    @Option(help: "Model folder or .gguf file (default: the bundled pycode-6m).") var model: String?
    @Option(help: "Number of worker processes.") var workers: Int = 1
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on.") var port: Int = 8080
    @Option(help: "SSSD datastore file.") var datastore: String?
    func run() throws { throw CLIError.notAvailableYet("serve") }
}

struct Router: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP router: the OpenAI-compatible API and the shared request queue.")
    @Option(help: "HTTP listen address HOST:PORT.") var listen: String = "127.0.0.1:8080"
    @Option(help: "Worker listen address HOST:PORT.") var workerListen: String = "127.0.0.1:9090"
    @Option(help: "File of API keys, one per line.") var apiKeyFile: String?
    @Option(help: "File holding the shared worker token.") var workerTokenFile: String?
    @Option(help: "TLS certificate (PEM).") var tlsCert: String?
    @Option(help: "TLS private key (PEM).") var tlsKey: String?
    @Option(help: "Maximum queued requests per model.") var maxQueue: Int = 1024
    func run() throws { throw CLIError.notAvailableYet("router") }
}
