import ArgumentParser
import CNGHTTP2
import COpenBLAS
import CZstd

/// Prints Specula's version and the versions of the system libraries it is linked against,
/// which is what an operator needs when a bug report says "it works on my machine".
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print versions of Specula and its system libraries.")

    func run() throws {
        for line in LinkedLibraries.describe() {
            print(line)
        }
    }
}

enum LinkedLibraries {
    static func describe() -> [String] {
        let nghttp2 = nghttp2_version(0).map { String(cString: $0.pointee.version_str) } ?? "unknown"
        let openblas = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        return [
            "specula \(SpeculaVersion.string)",
            "zstd \(String(cString: ZSTD_versionString()))",
            "nghttp2 \(nghttp2)",
            "openblas \(openblas)",
        ]
    }
}
