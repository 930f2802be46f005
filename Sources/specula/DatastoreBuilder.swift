import Foundation
import Speculation
import Tokenization

/// Tokenizes a text corpus (documents separated by the tokenizer's BOS/EOS text, e.g. `<|endoftext|>`)
/// and indexes it with a suffix array.
enum DatastoreBuilder {
    static func build(corpus path: String, tokenizer: Tokenizer, progress: ProgressBar) throws -> Datastore {
        let bytes = try ZstdReader.readFile(path)
        let text = String(decoding: bytes, as: UTF8.self)
        let separatorText = tokenizer.bosToken ?? tokenizer.eosToken ?? "<|endoftext|>"
        let documents = text.components(separatedBy: separatorText).filter { !$0.isEmpty }
        guard !documents.isEmpty else { throw CLIError("\(path): the corpus holds no text") }
        let tokenized = tokenizeInParallel(documents, tokenizer: tokenizer) { done in
            progress.update(0.5 * Double(done) / Double(documents.count), detail: "tokenizing \(done)/\(documents.count) documents")
        }
        let tokenCount = tokenized.reduce(0) { $0 + $1.count }
        let separator = tokenizer.bosTokenID ?? tokenizer.eosTokenIDs.min()
        let store = try Datastore.build(documents: tokenized, vocabularySize: tokenizer.vocabularySize,
                                        separator: separator.map { Int32($0) }) { fraction in
            progress.update(0.5 + 0.5 * fraction, detail: "indexing \(tokenCount) tokens")
        }
        progress.finish("\(documents.count) documents, \(store.tokenCount) tokens")
        return store
    }

    /// Documents encoded on every core (the tokenizer is thread-safe); order is kept.
    static func tokenizeInParallel(_ documents: [String], tokenizer: Tokenizer, progress: @escaping @Sendable (Int) -> Void) -> [[Int32]] {
        let results = UnsafeMutableBufferPointer<[Int32]>.allocate(capacity: documents.count)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let shared = UnsafeSendable(results)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var index = worker
            while index < documents.count {
                shared.value[index] = tokenizer.encode(documents[index], addSpecialTokens: false).map { Int32($0) }
                if worker == 0 { progress(min(index + workers, documents.count)) }
                index += workers
            }
        }
        return Array(results)
    }
}

/// A value handed to concurrent workers that write disjoint parts of it.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A one-line progress bar on stderr, redrawn in place when the fraction changes by a percent.
/// `onPercent` hears the first percent, then at most one a second, and 100 (a worker passes them on to
/// systemd as its status). Every percent was too many: on the bundled model they came 50 a second, a
/// notify socket's queue holds ten datagrams by default, and a supervisor reading it a little late lost
/// the messages after them, `READY=1` among them.
final class ProgressBar: @unchecked Sendable {
    let label: String
    private var lastPercent = -1
    private let started = Date()
    private let onPercent: (Int) -> Void
    private var lastHeard: Date?
    static let hearingInterval = 1.0

    init(label: String, onPercent: @escaping (Int) -> Void = { _ in }) {
        self.label = label
        self.onPercent = onPercent
    }

    func update(_ fraction: Double, detail: String) {
        let percent = Int(min(max(fraction, 0), 1) * 100)
        guard percent != lastPercent else { return }
        lastPercent = percent
        let now = Date()
        if percent == 100 || lastHeard.map({ now.timeIntervalSince($0) >= Self.hearingInterval }) ?? true {
            lastHeard = now
            onPercent(percent)
        }
        let filled = percent / 4
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 25 - filled)
        FileHandleOutput.standardError.write("\r\(label) [\(bar)] \(percent)% \(detail)\u{1B}[K")
    }

    func finish(_ summary: String) {
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        FileHandleOutput.standardError.write("\r\(label): \(summary) in \(seconds) s\u{1B}[K\n")
    }
}
