import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// The `specula` executable: one binary, every role (INTERFACES.md lists the contract).
@main
struct Specula: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "specula",
        abstract: "Serve LLMs on CPUs with Simply-Scalable Speculative Decoding (SSSD).",
        version: SpeculaVersion.string,
        subcommands: [
            Serve.self, Router.self, Worker.self,
            Generate.self, Logits.self, Tokenize.self, Detokenize.self,
            DatastoreCommand.self, Bench.self, Synth.self, Version.self,
        ]
    )

    /// Every failure ends as one `error: ...` line on stderr and a non-zero exit (INTERFACES.md);
    /// help and version requests keep ArgumentParser's own output.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            let message = Specula.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandleOutput.standardError.write("error: \(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)\n")
            Glibc.exit(code.rawValue)
        }
    }
}

enum SpeculaVersion {
    static let string = "0.1.0"
}
