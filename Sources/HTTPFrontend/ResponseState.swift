/// The order of one response's writer calls (head, body..., end), the same for both protocols: a
/// value the writer keeps under its lock, so misuse is caught where it happens, before any hop to the
/// connection.
struct ResponseState: Sendable {
    enum Phase: Sendable, Equatable {
        case awaitingHead
        /// `declaredLength` is the head's `content-length`, if it had one.
        case streaming(declaredLength: Int?, sent: Int)
        case ended
        /// The client reset the stream or closed the connection.
        case clientGone
    }

    private(set) var phase: Phase = .awaitingHead
    /// False for responses to `HEAD` and for 204 / 304: their body bytes are dropped.
    private var bodyAllowed: Bool
    private let requestIsHead: Bool

    init(requestMethod: String) {
        requestIsHead = requestMethod == "HEAD"
        bodyAllowed = !requestIsHead
    }

    /// Checks a head and moves to streaming.
    mutating func head(_ head: HTTPResponseHead) throws(HTTPFrontendError) {
        try check(.awaitingHead, "writeHead")
        try Self.validate(head)
        let declared = head.headers.first { $0.name == "content-length" }.flatMap { Int($0.value) }
        bodyAllowed = !requestIsHead && head.status != 204 && head.status != 304
        phase = .streaming(declaredLength: declared, sent: 0)
    }

    /// Accounts a body chunk. Returns whether its bytes go on the wire (not for `HEAD`, 204, 304).
    mutating func body(_ count: Int) throws(HTTPFrontendError) -> Bool {
        guard case .streaming(let declared, let sent) = phase else {
            try check(.streaming(declaredLength: nil, sent: 0), "writeBody")
            return false
        }
        guard bodyAllowed else { return false }
        if let declared, sent + count > declared {
            throw .invalidState("writeBody: \(sent + count) body bytes written, but content-length says \(declared)")
        }
        phase = .streaming(declaredLength: declared, sent: sent + count)
        return true
    }

    mutating func end() throws(HTTPFrontendError) {
        guard case .streaming(let declared, let sent) = phase else {
            try check(.streaming(declaredLength: nil, sent: 0), "end")
            return
        }
        if bodyAllowed, let declared, sent != declared {
            throw .invalidState("end: \(sent) body bytes written, but content-length says \(declared)")
        }
        phase = .ended
    }

    /// The client left: every later call throws ``HTTPFrontendError/clientGone``.
    mutating func clientGone() {
        if phase != .ended { phase = .clientGone }
    }

    var isComplete: Bool { phase == .ended || phase == .clientGone }

    private func check(_ expected: Phase, _ call: String) throws(HTTPFrontendError) {
        switch (phase, expected) {
        case (.clientGone, _): throw .clientGone
        case (.awaitingHead, .awaitingHead), (.streaming, .streaming): return
        case (.awaitingHead, _): throw .invalidState("\(call) before writeHead")
        case (.ended, _): throw .invalidState("\(call) after end")
        case (.streaming, _): throw .invalidState("\(call) twice")
        }
    }

    /// Statuses a service may send (1xx belong to the front end) and header fields both protocols can
    /// carry: lowercase token names, values without CR, LF or NUL.
    static func validate(_ head: HTTPResponseHead) throws(HTTPFrontendError) {
        guard (200...599).contains(head.status) else {
            throw .invalidState("writeHead: status \(head.status) is not a final status (200-599)")
        }
        for (name, value) in head.headers {
            guard !name.isEmpty, name.utf8.allSatisfy(isLowercaseTokenByte) else {
                throw .invalidState("writeHead: header name '\(name)' is not a lowercase token")
            }
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw .invalidState("writeHead: the value of '\(name)' contains CR, LF or NUL")
            }
            if name == "content-length", Int(value).map({ $0 < 0 }) ?? true {
                throw .invalidState("writeHead: content-length '\(value)' is not a number of bytes")
            }
        }
    }

    private static func isLowercaseTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
