#if canImport(Glibc)
import Glibc
#endif

/// Finds the model and corpus that ship inside the repository (SwiftPM resources of this target),
/// without `Bundle.module`, whose generated accessor traps when the bundle is missing: an installed
/// binary must instead say where it looked.
enum BundledAssets {
    static let defaultModelName = "pycode-6m"
    static let bundleName = "Specula_specula.resources"

    /// Folders searched, in order: `$SPECULA_ASSETS`, the resource bundle beside the executable
    /// (a `swift build` tree), and `../share/specula` beside it (an install by `Deploy/install.sh`).
    static func searchPaths() -> [String] {
        var paths: [String] = []
        if let override = getenv("SPECULA_ASSETS") {
            paths.append(String(cString: override))
        }
        if let executableDirectory = executableDirectory() {
            paths.append(executableDirectory + "/" + bundleName)
            paths.append(executableDirectory + "/../share/specula")
        }
        return paths
    }

    static var defaultModelPath: String {
        get throws { try locate("models/" + defaultModelName) }
    }

    static var corpusPath: String {
        get throws { try locate("corpus/pycode-train.txt.zst") }
    }

    private static func locate(_ relativePath: String) throws -> String {
        let candidates = searchPaths().map { $0 + "/" + relativePath }
        for candidate in candidates where access(candidate, F_OK) == 0 {
            return candidate
        }
        throw CLIError("bundled '\(relativePath)' not found (looked in \(candidates.joined(separator: ", "))); "
            + "pass --model, or set SPECULA_ASSETS to the folder holding models/ and corpus/")
    }

    private static func executableDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let path = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
