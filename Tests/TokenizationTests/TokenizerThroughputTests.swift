import Foundation
import Testing
@testable import Tokenization

/// Encode speed on the first 3 MB of the bundled corpus. Opt-in (it needs the `zstd` tool and a release
/// build to mean anything): `SPECULA_TOKENIZER_BENCH=1 swift test -c release --filter TokenizerThroughput`.
struct TokenizerThroughputTests {
    static let enabled = ProcessInfo.processInfo.environment["SPECULA_TOKENIZER_BENCH"] != nil

    static func corpusPrefix(bytes: Int) throws -> String {
        let corpus = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/specula/Resources/corpus/pycode-train.txt.zst")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["zstd", "-dc", corpus.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var prefix = Array(data.prefix(bytes))
        while let last = prefix.last, last & 0xC0 == 0x80 || last >= 0xC0 { prefix.removeLast() }  // whole characters
        return String(decoding: prefix, as: UTF8.self)
    }

    @Test(.enabled(if: enabled), arguments: ["pycode", "t2_llama3", "t3_spm"])
    func encodeTokensPerSecond(name: String) throws {
        let tokenizer = try HFReferenceTests.tokenizer(name)
        let text = try Self.corpusPrefix(bytes: 3_000_000)
        var best = 0.0
        var ids: [Int] = []
        for _ in 0..<3 {
            let start = ContinuousClock.now
            ids = tokenizer.encode(text, addSpecialTokens: false)
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            best = max(best, Double(ids.count) / seconds)
        }
        print("\(name): \(ids.count) tokens from \(text.utf8.count) bytes, best \(Int(best)) tokens/s")
        #expect(tokenizer.decode(ids, skipSpecialTokens: false) == text)
    }
}
