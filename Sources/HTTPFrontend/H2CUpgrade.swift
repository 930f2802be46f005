import NIOHTTP1

/// An HTTP/1.1 request asking to continue as HTTP/2 over cleartext (RFC 7540 §3.2): `Upgrade: h2c`,
/// `Connection: Upgrade`, and one `HTTP2-Settings` field holding the client's SETTINGS payload in
/// base64url. Its body (within the limits) stays with it: the front end answers 101, switches the
/// connection to HTTP/2 and serves the request as stream 1. Never over TLS (ALPN does that there).
struct H2CUpgrade: Equatable {
    /// The decoded SETTINGS payload, for `nghttp2_session_upgrade2`.
    let settingsPayload: [UInt8]

    init?(head: HTTPRequestHead, isTLS: Bool) {
        guard !isTLS, head.version == .http1_1,
              head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "h2c" }),
              head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" }) else {
            return nil
        }
        let settings = head.headers["http2-settings"]
        guard settings.count == 1, let payload = Self.decodeBase64URL(settings[0]), payload.count % 6 == 0 else {
            return nil
        }
        settingsPayload = payload
    }

    /// base64url without padding (RFC 4648 §5), as `HTTP2-Settings` carries it; trailing `=` tolerated.
    static func decodeBase64URL(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for character in text.utf8.prefix(while: { $0 != UInt8(ascii: "=") }) {
            guard let value = sextet(character) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return bits >= 6 ? nil : bytes  // a lone sextet cannot end base64
    }

    private static func sextet(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return character - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return character - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): return 62
        case UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}
