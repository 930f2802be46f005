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
