import Foundation

/// HF `normalizer`: rewrites each plain-text piece (between added tokens) before pre-tokenization.
indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd, lowercase
    case prepend([UInt8])
    case replace(pattern: [UInt8], content: [UInt8])
    case sequence([Normalizer])

    init(json: JSONObject) throws {
        let type = try json.string("type")
        switch type {
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "Prepend": self = .prepend(Array(try json.string("prepend").utf8))
        case "Replace":
            let pattern = try json.object("pattern")
            guard let literal = pattern.values["String"] as? String, !literal.isEmpty else {
                throw json.error("pattern", found: JSONObject.describe(pattern.values.first?.value),
                                 expected: "a non-empty {\"String\": ...} pattern (regex replace is not supported)")
            }
            self = .replace(pattern: Array(literal.utf8), content: Array(try json.string("content").utf8))
        case "Sequence":
            self = .sequence(try json.objects("normalizers").map(Normalizer.init(json:)))
        default:
            throw json.error("type", found: "\"\(type)\"",
                             expected: "a supported normalizer (NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Sequence)")
        }
    }

    /// The normalized bytes of one piece.
    func apply(_ bytes: [UInt8]) -> [UInt8] {
        switch self {
        case .nfc, .nfd, .nfkc, .nfkd:
            if bytes.allSatisfy({ $0 < 0x80 }) { return bytes }
            let string = String(decoding: bytes, as: UTF8.self)
            return Array(unicodeForm(string).utf8)
        case .lowercase:
            return Array(String(decoding: bytes, as: UTF8.self).lowercased().utf8)
        case .prepend(let prefix):
            return bytes.isEmpty ? bytes : prefix + bytes
        case .replace(let pattern, let content):
            return Self.replace(bytes, pattern, content)
        case .sequence(let steps):
            return steps.reduce(bytes) { $1.apply($0) }
        }
    }

    private func unicodeForm(_ string: String) -> String {
        switch self {
        case .nfc: string.precomposedStringWithCanonicalMapping
        case .nfd: string.decomposedStringWithCanonicalMapping
        case .nfkc: string.precomposedStringWithCompatibilityMapping
        default: string.decomposedStringWithCompatibilityMapping
        }
    }

    static func replace(_ bytes: [UInt8], _ pattern: [UInt8], _ content: [UInt8]) -> [UInt8] {
        guard bytes.count >= pattern.count else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 4 * max(0, content.count - pattern.count))
        var i = 0
        let first = pattern[0]
        while i < bytes.count {
            if bytes[i] == first && i + pattern.count <= bytes.count
                && bytes[i..<i + pattern.count].elementsEqual(pattern) {
                out.append(contentsOf: content)
                i += pattern.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}
