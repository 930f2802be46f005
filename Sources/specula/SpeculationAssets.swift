import Engine
import Foundation
import Kernels
import Speculation
import Tokenization

/// The drafter's datastore and the step-cost curve a model speculates with, each built or measured once
/// and cached on disk (`$SPECULA_CACHE`, else `$XDG_CACHE_HOME/specula`, else `~/.cache/specula`).
enum SpeculationAssets {
    static var cacheDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["SPECULA_CACHE"] { return explicit }
        if let xdg = environment["XDG_CACHE_HOME"] { return xdg + "/specula" }
        return (environment["HOME"] ?? "/tmp") + "/.cache/specula"
    }

    /// The speculation machinery for `loaded`: the datastore given, else the bundled corpus's when the
    /// model shares the bundled tokenizer (built on first use), else request statistics alone.
    static func setup(for loaded: LoadedModel, datastore explicit: String?, log: (String) -> Void) throws -> SpeculationSetup {
        let datastore = try self.datastore(for: loaded, explicit: explicit, log: log)
        return SpeculationSetup(drafter: Drafter(datastore: datastore), costModel: costModel(for: loaded, log: log))
    }

    static func datastore(for loaded: LoadedModel, explicit: String?, log: (String) -> Void) throws -> Datastore? {
        if let explicit {
            let store = try Datastore.open(path: explicit)
            try checkVocabulary(store, loaded: loaded, path: explicit)
            return store
        }
        guard let fingerprint = bundledTokenizerFingerprint(loaded), let corpus = try? BundledAssets.corpusPath else {
            return nil
        }
        let path = cacheDirectory + "/datastore-\(BundledAssets.defaultModelName)-\(fingerprint).sssd"
        if let store = try? Datastore.open(path: path) {
            return store
        }
        log("building the datastore for \(BundledAssets.defaultModelName) from the bundled corpus (once; cached at \(path))")
        let store = try DatastoreBuilder.build(corpus: corpus, tokenizer: loaded.tokenizer, progress: ProgressBar(label: "datastore"))
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        try store.write(to: path)
        return try Datastore.open(path: path)
    }

    static func checkVocabulary(_ store: Datastore, loaded: LoadedModel, path: String) throws {
        guard store.vocabularySize == loaded.tokenizer.vocabularySize else {
            throw CLIError("datastore '\(path)' was built for a vocabulary of \(store.vocabularySize) tokens; "
                + "this model's tokenizer has \(loaded.tokenizer.vocabularySize): rebuild it with 'specula datastore build --model ...'")
        }
    }

    /// A fingerprint of the model's tokenizer when it is the bundled model's, else nil.
    static func bundledTokenizerFingerprint(_ loaded: LoadedModel) -> String? {
        guard let bundled = try? BundledAssets.defaultModelPath,
              let mine = FileManager.default.contents(atPath: loaded.tokenizerFilePath),
              let theirs = FileManager.default.contents(atPath: bundled + "/tokenizer.json"), mine == theirs else { return nil }
        return String(fnv1a(mine), radix: 16)
    }

    /// The measured step-cost curve, cached per model, machine, thread count and step size.
    static func costModel(for loaded: LoadedModel, log: (String) -> Void) -> StepCostModel {
        let weights = (try? FileManager.default.attributesOfItem(atPath: loaded.path)[.size] as? Int) ?? 0
        let key = "\(canonicalPath(loaded.path))|\(weights)|\(loaded.checkpoint.configuration)"
            + "|\(MachineDescription.current)|\(loaded.pool.threadCount)|\(loaded.model.maxTokensPerStep)|\(loaded.model.activationPrecision.rawValue)|v6|k\(MatMul.kernelRevision)"
        let path = cacheDirectory + "/cost-\(loaded.name)-\(String(fnv1a(Data(key.utf8)), radix: 16)).json"
        if let data = FileManager.default.contents(atPath: path),
           let model = try? JSONDecoder().decode(StepCostModel.self, from: data) {
            return model
        }
        log("measuring this machine's step cost for \(loaded.name) (once; cached at \(path))")
        let model = StepCostModel.measure(model: loaded.model, cache: loaded.cache)
        try? FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        // Atomic, so a worker starting beside this one reads the whole curve or none of it.
        try? JSONEncoder().encode(model).write(to: URL(fileURLWithPath: path), options: .atomic)
        return model
    }

    /// The path with symlinks resolved: `.build/release/...` and the folder it links to are one model,
    /// and each spelling had measured its own curve (they differed by up to 40% on a shared machine,
    /// enough to turn the policy's choices at batch 16).
    static func canonicalPath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    static func fnv1a(_ data: Data) -> UInt64 {
        data.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }
}
