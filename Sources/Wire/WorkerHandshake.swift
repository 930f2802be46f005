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
func unexpected(_ message: WireMessage, expected: String) -> WireError {
    if case .error(let error) = message { return WireError(error.code, "peer: \(error.message)") }
    return WireError(.unexpectedFrame, "received \(message.type) during the handshake; expected \(expected) (only handshake frames are accepted before authentication)")
}
