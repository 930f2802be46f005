public import NIOCore

/// Every message of protocol version 1; one per frame (`Protocols/wire.md`, "Messages").
public enum WireMessage: Sendable, Equatable {
    case hello(Hello)
    case authenticate(Authenticate)
    case welcome(Welcome)
    case register(Register)
    case registration(Registration)
    case credits(Credits)
    case assign(Assignment)
    case tokens(TokenEvent)
    case finish(Finish)
    case cancel(Cancel)
    case heartbeat(Heartbeat)
    case drain(Drain)
    case tokenize(TokenizeRequest)
    case detokenize(DetokenizeRequest)
    case tokenization(TokenizationResult)
    case error(ErrorMessage)

    /// The frame type byte of this message.
    public var type: MessageType {
        switch self {
        case .hello: .hello
        case .authenticate: .authenticate
        case .welcome: .welcome
        case .register: .register
        case .registration: .registration
        case .credits: .credits
        case .assign: .assign
        case .tokens: .tokens
        case .finish: .finish
        case .cancel: .cancel
        case .heartbeat: .heartbeat
        case .drain: .drain
        case .tokenize: .tokenize
        case .detokenize: .detokenize
        case .tokenization: .tokenization
        case .error: .error
        }
    }
}

/// The frame type byte.
public struct MessageType: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let hello = MessageType(rawValue: 0x01)
    public static let authenticate = MessageType(rawValue: 0x02)
    public static let welcome = MessageType(rawValue: 0x03)
    public static let register = MessageType(rawValue: 0x10)
    public static let registration = MessageType(rawValue: 0x11)
    public static let credits = MessageType(rawValue: 0x20)
    public static let assign = MessageType(rawValue: 0x21)
    public static let tokens = MessageType(rawValue: 0x22)
    public static let finish = MessageType(rawValue: 0x23)
    public static let cancel = MessageType(rawValue: 0x24)
    public static let tokenize = MessageType(rawValue: 0x25)
    public static let detokenize = MessageType(rawValue: 0x26)
    public static let tokenization = MessageType(rawValue: 0x27)
    public static let heartbeat = MessageType(rawValue: 0x30)
    public static let drain = MessageType(rawValue: 0x31)
    public static let error = MessageType(rawValue: 0x3F)

    /// Whether a router receives this type once authenticated (`register`, `credits`, `tokens`,
    /// `finish`, `tokenization`, `drain`, `heartbeat`, `error`).
    public var isSentByWorker: Bool {
        [.register, .credits, .tokens, .finish, .tokenization, .drain, .heartbeat, .error].contains(self)
    }

    /// Whether a worker receives this type once authenticated (`registration`, `assign`, `cancel`,
    /// `tokenize`, `detokenize`, `heartbeat`, `error`).
    public var isSentByRouter: Bool {
        [.registration, .assign, .cancel, .tokenize, .detokenize, .heartbeat, .error].contains(self)
    }

    /// Types allowed before authentication completes (and never compressed).
    public var isHandshake: Bool { self == .hello || self == .authenticate || self == .welcome || self == .error }

    public var description: String {
        switch self {
        case .hello: "hello"
        case .authenticate: "authenticate"
        case .welcome: "welcome"
        case .register: "register"
        case .registration: "registration"
        case .credits: "credits"
        case .assign: "assign"
        case .tokens: "tokens"
        case .finish: "finish"
        case .cancel: "cancel"
        case .heartbeat: "heartbeat"
        case .drain: "drain"
        case .tokenize: "tokenize"
        case .detokenize: "detokenize"
        case .tokenization: "tokenization"
        case .error: "error"
        default: "0x\(hex(rawValue))"
        }
    }
}

extension WireMessage {
    /// Appends this message's payload (uncompressed) to `buffer`.
    public func encodePayload(into buffer: inout ByteBuffer) {
        switch self {
        case .hello(let m): m.encode(into: &buffer)
        case .authenticate(let m): m.encode(into: &buffer)
        case .welcome(let m): m.encode(into: &buffer)
        case .register(let m): m.encode(into: &buffer)
        case .registration(let m): m.encode(into: &buffer)
        case .credits(let m): m.encode(into: &buffer)
        case .assign(let m): m.encode(into: &buffer)
        case .tokens(let m): m.encode(into: &buffer)
        case .finish(let m): m.encode(into: &buffer)
        case .cancel(let m): m.encode(into: &buffer)
        case .heartbeat(let m): m.encode(into: &buffer)
        case .drain(let m): m.encode(into: &buffer)
        case .tokenize(let m): m.encode(into: &buffer)
        case .detokenize(let m): m.encode(into: &buffer)
        case .tokenization(let m): m.encode(into: &buffer)
        case .error(let m): m.encode(into: &buffer)
        }
    }

    /// Parses an uncompressed payload of the given type.
    /// - Throws: `WireError` `.unknownFrameType` or `.malformedFrame`.
    public init(type: MessageType, payload: ByteBuffer) throws(WireError) {
        var reader = PayloadReader(payload, message: type.description)
        switch type {
        case .hello: self = .hello(try Hello(from: &reader))
        case .authenticate: self = .authenticate(try Authenticate(from: &reader))
        case .welcome: self = .welcome(try Welcome(from: &reader))
        case .register: self = .register(try Register(from: &reader))
        case .registration: self = .registration(try Registration(from: &reader))
        case .credits: self = .credits(try Credits(from: &reader))
        case .assign: self = .assign(try Assignment(from: &reader))
        case .tokens: self = .tokens(try TokenEvent(from: &reader))
        case .finish: self = .finish(try Finish(from: &reader))
        case .cancel: self = .cancel(try Cancel(from: &reader))
        case .heartbeat: self = .heartbeat(try Heartbeat(from: &reader))
        case .drain: self = .drain(try Drain(from: &reader))
        case .tokenize: self = .tokenize(try TokenizeRequest(from: &reader))
        case .detokenize: self = .detokenize(try DetokenizeRequest(from: &reader))
        case .tokenization: self = .tokenization(try TokenizationResult(from: &reader))
        case .error: self = .error(try ErrorMessage(from: &reader))
        default:
            throw WireError(.unknownFrameType, "frame type \(type) is not defined in protocol version \(WireVersion.current); expected one of 0x01-0x03, 0x10-0x11, 0x20-0x27, 0x30-0x31, 0x3f")
        }
        try reader.finish()
    }
}

/// Protocol versions this build speaks.
public enum WireVersion {
    public static let current: UInt16 = 1
    public static let minimum: UInt16 = 1
}
