/// Incremental parser of a `text/event-stream` body (the WHATWG server-sent events format): bytes
/// arrive in arbitrary pieces; each complete event comes out once its terminating blank line has
/// arrived. Lines end in LF, CRLF or CR; `:` lines are comments; of the fields only `data` (joined
/// with newlines when repeated) and `event` matter here.
public struct SSEParser: Sendable {
    public struct Event: Sendable, Equatable {
        public var type: String
        public var data: String

        public init(type: String, data: String) {
            self.type = type
            self.data = data
        }
    }

    private var line: [UInt8] = []
    private var data: [String] = []
    private var type = ""
    private var sawCarriageReturn = false

    public init() {}

    /// Consumes `bytes`; returns the events they complete, in order.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [Event] where Bytes.Element == UInt8 {
        var events: [Event] = []
        for byte in bytes {
            if sawCarriageReturn {
                sawCarriageReturn = false
                if byte == UInt8(ascii: "\n") { continue }  // the LF of a CRLF
            }
            switch byte {
            case UInt8(ascii: "\n"):
                if let event = endLine() { events.append(event) }
            case UInt8(ascii: "\r"):
                sawCarriageReturn = true
                if let event = endLine() { events.append(event) }
            default:
                line.append(byte)
            }
        }
        return events
    }

    /// Bytes of an unfinished event are dropped at the end of the stream, as the format says.
    public var hasPartialEvent: Bool { !line.isEmpty || !data.isEmpty }

    private mutating func endLine() -> Event? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard !data.isEmpty else {
                type = ""
                return nil
            }
            let event = Event(type: type.isEmpty ? "message" : type, data: data.joined(separator: "\n"))
            data.removeAll()
            type = ""
            return event
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let text = String(decoding: line, as: UTF8.self)
        let name: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            name = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            name = Substring(text)
            value = ""
        }
        switch name {
        case "data": data.append(String(value))
        case "event": type = String(value)
        default: break  // id, retry and unknown fields do not matter to a benchmark client
        }
        return nil
    }
}
