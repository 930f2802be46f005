/// The one error type of `Wire`: a code that travels in `Error` frames and a one-line message naming
/// what failed, the value found, what was expected and, where there is one, the fix.
///
/// Connection-level errors (every code except ``Code/requestFailed``) close the connection they
/// happened on and no other; see `Protocols/wire.md`, "Errors".
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; compare with the static members (`error.code == .frameTooLarge`).
    /// The raw value is the `code` field of an `Error` frame.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt16
        /// A code read from the wire; unknown values are kept as they are.
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        /// A payload does not parse: a length runs past its end, an enum value is unknown, text is not
        /// UTF-8, a float is not finite, or bytes are left over.
        public static let malformedFrame = Code(rawValue: 1)
        /// A frame's declared payload length exceeds the receiver's maximum frame size.
        public static let frameTooLarge = Code(rawValue: 2)
        /// A compressed payload declares or produces more than the maximum decompressed size, or a size
        /// other than the one it declared.
        public static let decompressedTooLarge = Code(rawValue: 3)
        /// The zstd data of a compressed payload is corrupt.
        public static let corruptCompression = Code(rawValue: 4)
        /// The frame type is not one this protocol version defines.
        public static let unknownFrameType = Code(rawValue: 5)
        /// A frame arrived in a state that does not allow it (anything but the handshake before
        /// authentication, a second `register`, an assignment without credit).
        public static let unexpectedFrame = Code(rawValue: 6)
        /// The handshake did not start with the magic bytes `SPCW`.
        public static let badMagic = Code(rawValue: 7)
        /// The peers share no protocol version.
        public static let unsupportedVersion = Code(rawValue: 8)
        /// A handshake proof does not match: the peers do not share the token.
        public static let authenticationFailed = Code(rawValue: 9)
        /// The connection closed in the middle of a frame.
        public static let truncatedFrame = Code(rawValue: 10)
        /// Flag bits this version does not define are set, or a handshake frame is compressed.
        public static let invalidFlags = Code(rawValue: 11)
        /// The router refused the registration (model or limits it does not accept).
        public static let registrationRefused = Code(rawValue: 12)
        /// The peer sent no frame within the heartbeat timeout.
        public static let heartbeatTimeout = Code(rawValue: 13)
        /// One request cannot be served; the connection stays open.
        public static let requestFailed = Code(rawValue: 14)
        /// The sender is shutting down or failed internally.
        public static let internalError = Code(rawValue: 15)

        public var description: String {
            switch self {
            case .malformedFrame: "malformedFrame"
            case .frameTooLarge: "frameTooLarge"
            case .decompressedTooLarge: "decompressedTooLarge"
            case .corruptCompression: "corruptCompression"
            case .unknownFrameType: "unknownFrameType"
            case .unexpectedFrame: "unexpectedFrame"
            case .badMagic: "badMagic"
            case .unsupportedVersion: "unsupportedVersion"
            case .authenticationFailed: "authenticationFailed"
            case .truncatedFrame: "truncatedFrame"
            case .invalidFlags: "invalidFlags"
            case .registrationRefused: "registrationRefused"
            case .heartbeatTimeout: "heartbeatTimeout"
            case .requestFailed: "requestFailed"
            case .internalError: "internalError"
            default: "code\(rawValue)"
            }
        }
    }

    public var code: Code
    /// One line: what failed, the value, what was expected.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "wire \(code): \(message)" }
}
