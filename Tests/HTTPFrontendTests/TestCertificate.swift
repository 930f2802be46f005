import Foundation
import HTTPFrontend

/// A self-signed certificate for 127.0.0.1 and localhost, made with `openssl` for one test.
enum TestCertificate {
    static func make() async throws -> TLSFiles {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("http-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let files = TLSFiles(certificateChainPath: directory.appendingPathComponent("cert.pem").path,
                             privateKeyPath: directory.appendingPathComponent("key.pem").path)
        let result = try await Command.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", files.privateKeyPath, "-out", files.certificateChainPath,
        ])
        guard result.status == 0 else { throw TestFailure("openssl req failed: \(result.stderr)") }
        return files
    }
}
