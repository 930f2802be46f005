import Foundation
import Testing

/// The engine knows nothing of networking: engine-side modules must not import NIO, the wire
/// protocol, HTTP or the networking C libraries (ARCHITECTURE.md, "Modules").
@Suite("Module layering")
struct ArchitectureTests {
    static let engineSide = ["Kernels", "ModelFormat", "Tokenization", "Transformer", "Speculation", "Engine"]
    static let forbidden = ["NIO", "NIOCore", "NIOPosix", "NIOHTTP1", "NIOSSL", "NIOExtras", "Wire",
                            "HTTPFrontend", "RouterCore", "WorkerCore", "CNGHTTP2", "CZstd"]

    @Test("engine-side modules import no networking module")
    func engineSideHasNoNetworking() throws {
        var violations: [String] = []
        var scanned = 0
        for module in Self.engineSide {
            let folder = SpeculaProcess.packageRoot.appendingPathComponent("Sources/\(module)")
            guard let files = FileManager.default.enumerator(atPath: folder.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                scanned += 1
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    if let imported = Self.importedModule(String(line)), Self.forbidden.contains(imported) {
                        violations.append("Sources/\(module)/\(file): import \(imported)")
                    }
                }
            }
        }
        #expect(scanned > 0)
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test("the import scanner recognises attributed and scoped imports")
    func scannerRecognisesImports() {
        #expect(Self.importedModule("import NIOCore") == "NIOCore")
        #expect(Self.importedModule("@preconcurrency import NIOPosix") == "NIOPosix")
        #expect(Self.importedModule("public import struct NIOCore.ByteBuffer") == "NIOCore")
        #expect(Self.importedModule("@_implementationOnly import CZstd") == "CZstd")
        #expect(Self.importedModule("// import NIO") == nil)
        #expect(Self.importedModule("let important = 1") == nil)
    }

    /// The module named by an `import` line, or nil.
    static func importedModule(_ line: String) -> String? {
        var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        while let first = words.first, first.hasPrefix("@") || ["public", "internal", "package", "private", "fileprivate"].contains(first) {
            words.removeFirst()
        }
        guard words.first == "import", words.count >= 2 else { return nil }
        let kinds: Set = ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"]
        let target = kinds.contains(words[1]) && words.count >= 3 ? words[2] : words[1]
        return target.split(separator: ".").first.map(String.init)
    }
}
