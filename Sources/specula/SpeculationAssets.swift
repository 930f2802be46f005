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
    /// `log` hears what a first start is about to build or measure; `status` hears how far it got
    /// ("measuring the step cost: 40%"), so a supervisor can tell a long first start from a stuck one.
    static func setup(for loaded: LoadedModel, datastore explicit: String?, log: @escaping (String) -> Void,
                      status: @escaping (String) -> Void = { _ in }) throws -> SpeculationSetup {
        let datastore = try self.datastore(for: loaded, explicit: explicit, log: log, status: status)
        return SpeculationSetup(drafter: Drafter(datastore: datastore),
                                costModel: try costModel(for: loaded, log: log, status: status))
    }

    static func datastore(for loaded: LoadedModel, explicit: String?, log: @escaping (String) -> Void,
                          status: @escaping (String) -> Void) throws -> Datastore? {
        if let explicit {
            let store = try Datastore.open(path: explicit)
            try checkVocabulary(store, loaded: loaded, path: explicit)
            return store
        }
        guard let fingerprint = bundledTokenizerFingerprint(loaded), let corpus = try? BundledAssets.corpusPath else {
            return nil
        }
        let path = cacheDirectory + "/datastore-\(BundledAssets.defaultModelName)-\(fingerprint).sssd"
        return try CachedAsset.loadOrMake(
            path: path, load: { try? Datastore.open(path: path) },
            waiting: waitReporter("building the datastore", path: path, log: log, status: status)
        ) {
            log("building the datastore for \(BundledAssets.defaultModelName) from the bundled corpus (once; cached at \(path))")
            let bar = ProgressBar(label: "datastore") { status("building the datastore: \($0)%") }
            let store = try DatastoreBuilder.build(corpus: corpus, tokenizer: loaded.tokenizer, progress: bar)
            try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
            try store.write(to: path)
            return try Datastore.open(path: path)
        }
    }

    /// What a process waiting for another one's build says: a log line when the wait starts, and a
    /// status line then and every `CachedAsset.waitReportInterval`.
    private static func waitReporter(_ what: String, path: String, log: @escaping (String) -> Void,
                                     status: @escaping (String) -> Void) -> (Double) -> Void {
        var started = false
        return { waited in
            if !started { log("waiting for another process \(what) (cached at \(path))") }
            started = true
            status("waiting for another process \(what) (\(Int(waited)) s)")
        }
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
    static func costModel(for loaded: LoadedModel, log: @escaping (String) -> Void,
                          status: @escaping (String) -> Void = { _ in }) throws -> StepCostModel {
        let weights = (try? FileManager.default.attributesOfItem(atPath: loaded.path)[.size] as? Int) ?? 0
        let key = "\(canonicalPath(loaded.path))|\(weights)|\(loaded.checkpoint.configuration)"
            + "|\(MachineDescription.current)|\(loaded.pool.threadCount)|\(loaded.model.maxTokensPerStep)|\(loaded.model.activationPrecision.rawValue)|v6|k\(MatMul.kernelRevision)"
        let path = cacheDirectory + "/cost-\(loaded.name)-\(String(fnv1a(Data(key.utf8)), radix: 16)).json"
        func load() -> StepCostModel? {
            FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(StepCostModel.self, from: $0) }
        }
        return try CachedAsset.loadOrMake(
            path: path, load: load,
            waiting: waitReporter("measuring the step cost", path: path, log: log, status: status)
        ) {
            log("measuring this machine's step cost for \(loaded.name) (once; cached at \(path))")
            let bar = ProgressBar(label: "step cost") { status("measuring the step cost: \($0)%") }
            let model = StepCostModel.measure(model: loaded.model, cache: loaded.cache) {
                bar.update($0, detail: "timing steps of \(loaded.name)")
            }
            bar.finish("\(model.tokens.count) points, \(String(format: "%.3g", model.seconds.first.map { $0 * 1000 } ?? 0)) ms at one token")
            try? FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
            // Atomic: every process looks for the file before it takes the lock, and must find the
            // whole curve or none of it.
            try? JSONEncoder().encode(model).write(to: URL(fileURLWithPath: path), options: .atomic)
            return model
        }
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
