@testable import specula
import Foundation
import Testing

@Suite struct SpeculationAssetsTests {
    /// A model reached through a symlinked folder is the same model: its step-cost curve is cached once.
    @Test func aSymlinkedModelPathIsKeyedAsTheFolderItLinksTo() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("specula-assets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let real = root.appendingPathComponent("x86_64/release/model")
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        let link = root.appendingPathComponent("release")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: root.appendingPathComponent("x86_64/release"))
        let viaLink = link.path + "/model"
        let canonical = SpeculationAssets.canonicalPath(real.path)
        #expect(SpeculationAssets.canonicalPath(viaLink) == canonical)
        #expect(SpeculationAssets.canonicalPath(root.path + "/x86_64/./release/../release/model") == canonical)
        #expect(SpeculationAssets.canonicalPath(root.path + "/x86_64/release/other") != canonical)
    }
}
