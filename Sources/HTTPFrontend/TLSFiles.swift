import NIOSSL

/// A certificate chain and its private key, PEM files, for serving TLS. ALPN offers `h2` first, then
/// `http/1.1`.
public struct TLSFiles: Sendable, Equatable {
    /// The server certificate first, then any intermediates.
    public var certificateChainPath: String
    public var privateKeyPath: String

    public init(certificateChainPath: String, privateKeyPath: String) {
        self.certificateChainPath = certificateChainPath
        self.privateKeyPath = privateKeyPath
    }

    /// The protocols offered by ALPN, most preferred first.
    static let applicationProtocols = ["h2", "http/1.1"]

    /// Reads both files and builds the server's TLS context.
    /// - Throws: ``HTTPFrontendError/invalidConfiguration(_:)`` naming the file that failed.
    func makeContext() throws(HTTPFrontendError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateChainPath)
        } catch {
            throw .invalidConfiguration("cannot read the TLS certificate chain \(certificateChainPath) as PEM: \(error)")
        }
        guard !chain.isEmpty else {
            throw .invalidConfiguration("the TLS certificate file \(certificateChainPath) holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyPath, format: .pem)
        } catch {
            throw .invalidConfiguration("cannot read the TLS private key \(privateKeyPath) as PEM: \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.applicationProtocols = Self.applicationProtocols
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .invalidConfiguration(
                "the TLS key \(privateKeyPath) and certificate \(certificateChainPath) do not make a context: \(error)")
        }
    }
}
