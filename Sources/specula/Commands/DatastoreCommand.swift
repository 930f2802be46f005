import ArgumentParser
import Foundation
import Tokenization

/// `specula datastore build`: the SSSD datastore (tokenized corpus + suffix array) for a model's tokenizer.
struct DatastoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datastore",
        abstract: "Build the SSSD datastore (tokenized corpus + suffix array).",
        subcommands: [Build.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tokenize a corpus with the model's tokenizer and index it (progress on stderr).",
            discussion: "Documents in the corpus are separated by the tokenizer's BOS/EOS text (e.g. <|endoftext|>); "
                + "a .zst corpus is decompressed on the fly. Without --corpus, the bundled corpus is used.")

        @OptionGroup var modelOption: ModelOption
        @Option(help: "Corpus text file (zstd-compressed accepted).") var corpus: String?
        @Option(help: "Output datastore file.") var out: String

        func run() throws {
            let path = try modelOption.resolvedPath()
            let tokenizer = try Tokenizer.load(path: path)
            let corpusPath = try corpus ?? BundledAssets.corpusPath
            let store = try DatastoreBuilder.build(corpus: corpusPath, tokenizer: tokenizer, progress: ProgressBar(label: "datastore"))
            try store.write(to: out)
            let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            print("wrote \(out): \(store.tokenCount) tokens, \(size / 1_000_000) MB")
        }
    }
}
