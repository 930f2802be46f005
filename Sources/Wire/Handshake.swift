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

/// The router's side of the handshake as a value: `hello` out, `authenticate` in, `welcome` out.
public struct RouterHandshake: Sendable {
    public enum State: Sendable, Equatable {
        case awaitingAuthenticate
        case authenticated(workerName: String, version: UInt16)
        case failed
    }

    public private(set) var state = State.awaitingAuthenticate
    private let proof: HandshakeProof
    private let versions: ClosedRange<UInt16>
    private let challenge: [UInt8]

    public init(proof: HandshakeProof, versions: ClosedRange<UInt16> = WireVersion.minimum...WireVersion.current,
                challenge: [UInt8] = HandshakeProof.randomChallenge()) {
        precondition(challenge.count == Hello.challengeBytes, "a challenge is 32 bytes")
        self.proof = proof
        self.versions = versions
        self.challenge = challenge
    }

    /// The first frame to send.
    public var hello: WireMessage {
        .hello(Hello(minVersion: versions.lowerBound, maxVersion: versions.upperBound, challenge: challenge))
    }

    /// Handles one frame received before authentication; returns the `welcome` to send.
    /// - Throws: `.unexpectedFrame`, `.unsupportedVersion`, `.authenticationFailed`, or the peer's error.
    public mutating func receive(_ message: WireMessage) throws(WireError) -> WireMessage {
        guard case .awaitingAuthenticate = state else {
            throw WireError(.unexpectedFrame, "router handshake received \(message.type) in state \(state)")
        }
        state = .failed
        guard case .authenticate(let auth) = message else { throw unexpected(message, expected: "authenticate") }
        guard versions.contains(auth.version) else {
            throw WireError(.unsupportedVersion, "worker '\(auth.workerName)' chose protocol version \(auth.version); this router speaks \(versions.lowerBound)-\(versions.upperBound)")
        }
        guard proof.verify(auth.proof, role: .worker, routerChallenge: challenge, workerChallenge: auth.challenge,
                           version: auth.version, workerName: auth.workerName) else {
            throw WireError(.authenticationFailed, "worker '\(auth.workerName)' failed authentication: its proof does not match this router's token; give both the same token")
        }
        state = .authenticated(workerName: auth.workerName, version: auth.version)
        return .welcome(Welcome(proof: proof.proof(role: .router, routerChallenge: challenge, workerChallenge: auth.challenge,
                                                   version: auth.version, workerName: auth.workerName)))
    }
}

/// The worker's side: `hello` in, `authenticate` out, `welcome` in.
public struct WorkerHandshake: Sendable {
    public enum State: Sendable, Equatable {
        case awaitingHello
        case awaitingWelcome(routerChallenge: [UInt8], version: UInt16)
        case authenticated(version: UInt16)
        case failed
    }

    public private(set) var state = State.awaitingHello
    public let workerName: String
    private let proof: HandshakeProof
    private let versions: ClosedRange<UInt16>
    private let challenge: [UInt8]

    public init(proof: HandshakeProof, workerName: String, versions: ClosedRange<UInt16> = WireVersion.minimum...WireVersion.current,
                challenge: [UInt8] = HandshakeProof.randomChallenge()) {
        precondition(challenge.count == Hello.challengeBytes, "a challenge is 32 bytes")
        self.proof = proof
        self.workerName = workerName
        self.versions = versions
        self.challenge = challenge
    }

    /// What to do after a frame: send `authenticate`, or nothing (authenticated).
    public enum Action: Sendable, Equatable {
        case send(WireMessage)
        case authenticated(version: UInt16)
    }

    public mutating func receive(_ message: WireMessage) throws(WireError) -> Action {
        let current = state
        state = .failed
        switch (current, message) {
        case (.awaitingHello, .hello(let hello)):
            let version = min(hello.maxVersion, versions.upperBound)
            guard version >= hello.minVersion, version >= versions.lowerBound else {
                throw WireError(.unsupportedVersion, "router speaks protocol versions \(hello.minVersion)-\(hello.maxVersion); this worker speaks \(versions.lowerBound)-\(versions.upperBound)")
            }
            state = .awaitingWelcome(routerChallenge: hello.challenge, version: version)
            let mine = proof.proof(role: .worker, routerChallenge: hello.challenge, workerChallenge: challenge, version: version, workerName: workerName)
            return .send(.authenticate(Authenticate(version: version, challenge: challenge, proof: mine, workerName: workerName)))
        case (.awaitingWelcome(let routerChallenge, let version), .welcome(let welcome)):
            guard proof.verify(welcome.proof, role: .router, routerChallenge: routerChallenge, workerChallenge: challenge,
                               version: version, workerName: workerName) else {
                throw WireError(.authenticationFailed, "the router's proof does not match this worker's token: the router does not hold the same token")
            }
            state = .authenticated(version: version)
            return .authenticated(version: version)
        default:
            throw unexpected(message, expected: current == .awaitingHello ? "hello" : "welcome")
        }
    }
}

/// A peer's `error` frame becomes its error; anything else is out of order.
private func unexpected(_ message: WireMessage, expected: String) -> WireError {
    if case .error(let error) = message { return WireError(error.code, "peer: \(error.message)") }
    return WireError(.unexpectedFrame, "received \(message.type) during the handshake; expected \(expected) (only handshake frames are accepted before authentication)")
}
