import Foundation
import Testing

/// `Wire` is shared by router and worker and knows nothing of the engine: it imports only NIOCore,
/// Crypto, CZstd, the standard library (Synchronization included) and the C library (ARCHITECTURE.md,
/// "Modules").
@Suite("Wire layering")
struct LayeringTests {
    static let allowed: Set = ["NIOCore", "Crypto", "CZstd", "Foundation", "Glibc", "Darwin", "Synchronization"]

    @Test("Sources/Wire imports no engine-side or other Specula module")
    func imports() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/Wire").standardized
        let files = try #require(FileManager.default.enumerator(atPath: folder.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 10)
        var found: [String] = []
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ").filter { !$0.hasPrefix("@") && !["public", "internal", "package"].contains($0) }
                guard words.first == "import", words.count >= 2 else { continue }
                let module = String(words[1].split(separator: ".")[0])
                if !Self.allowed.contains(module) { found.append("\(file): import \(module)") }
            }
        }
        #expect(found.isEmpty, "\(found)")
    }
}
