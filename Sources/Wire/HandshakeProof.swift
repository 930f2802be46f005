import Crypto

/// The HMAC-SHA256 proofs of the handshake (`Protocols/wire.md`, "Handshake"). The token never
/// crosses the wire; each side proves it holds the token by authenticating a transcript that contains
/// both fresh challenges, so a recorded proof is useless on another connection.
public struct HandshakeProof: Sendable {
    // Kept as bytes: Crypto's SymmetricKey is not Sendable on Linux.
    private let token: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: token) }

    /// - Parameter token: the shared secret (at least 16 bytes; the deployment uses 32 random bytes).
    public init(token: [UInt8]) throws(WireError) {
        guard token.count >= 16 else {
            throw WireError(.authenticationFailed, "the shared token is \(token.count) bytes; use at least 16 (32 random bytes recommended)")
        }
        self.token = token
    }

    /// Who is proving: the worker answers the router's challenge first, then the router answers.
    public enum Role: String, Sendable {
        case worker
        case router
    }

    /// `"specula-wire " ‖ role ‖ 0x00 ‖ router challenge (32) ‖ worker challenge (32) ‖ version (u16 BE)
    /// ‖ worker name (UTF-8)`.
    static func transcript(role: Role, routerChallenge: [UInt8], workerChallenge: [UInt8], version: UInt16, workerName: String) -> [UInt8] {
        var bytes = Array("specula-wire \(role.rawValue)".utf8)
        bytes.append(0)
        bytes += routerChallenge
        bytes += workerChallenge
        bytes += [UInt8(version >> 8), UInt8(version & 0xFF)]
        bytes += Array(workerName.utf8)
        return bytes
    }

    public func proof(role: Role, routerChallenge: [UInt8], workerChallenge: [UInt8], version: UInt16, workerName: String) -> [UInt8] {
        let transcript = Self.transcript(role: role, routerChallenge: routerChallenge, workerChallenge: workerChallenge,
                                         version: version, workerName: workerName)
        return Array(HMAC<SHA256>.authenticationCode(for: transcript, using: key))
    }

    /// Compares in constant time.
    public func verify(_ proof: [UInt8], role: Role, routerChallenge: [UInt8], workerChallenge: [UInt8], version: UInt16, workerName: String) -> Bool {
        let transcript = Self.transcript(role: role, routerChallenge: routerChallenge, workerChallenge: workerChallenge,
                                         version: version, workerName: workerName)
        return HMAC<SHA256>.isValidAuthenticationCode(proof, authenticating: transcript, using: key)
    }

    /// 32 bytes from the system's cryptographic generator.
    public static func randomChallenge() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<Hello.challengeBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
