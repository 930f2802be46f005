/// Router → worker, the first frame on a connection: who we are and what the worker must prove.
public struct Hello: Sendable, Equatable {
    /// `SPCW`, the first four payload bytes of `hello` and `authenticate`.
    public static let magic: [UInt8] = Array("SPCW".utf8)
    /// Bytes of a handshake challenge and of an HMAC-SHA256 proof.
    public static let challengeBytes = 32

    /// Lowest and highest protocol versions the router speaks.
    public var minVersion: UInt16
    public var maxVersion: UInt16
    /// 32 random bytes, fresh for this connection.
    public var challenge: [UInt8]

    public init(minVersion: UInt16, maxVersion: UInt16, challenge: [UInt8]) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.challenge = challenge
    }
}

/// Worker → router: the chosen version, the worker's name, its proof of the token and its own challenge.
public struct Authenticate: Sendable, Equatable {
    /// The highest version both sides speak.
    public var version: UInt16
    /// 32 random bytes for the router to prove the token in ``Welcome``.
    public var challenge: [UInt8]
    /// `HMAC-SHA256(token, transcript("worker"))`; see ``HandshakeTranscript``.
    public var proof: [UInt8]
    /// How the worker names itself in logs and metrics (1…128 bytes of UTF-8).
    public var workerName: String

    public init(version: UInt16, challenge: [UInt8], proof: [UInt8], workerName: String) {
        self.version = version
        self.challenge = challenge
        self.proof = proof
        self.workerName = workerName
    }
}

/// Router → worker: the router's proof of the token. After it, both sides are authenticated.
public struct Welcome: Sendable, Equatable {
    /// `HMAC-SHA256(token, transcript("router"))`.
    public var proof: [UInt8]

    public init(proof: [UInt8]) {
        self.proof = proof
    }
}
