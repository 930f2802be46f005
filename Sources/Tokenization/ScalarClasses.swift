/// Character classes the split regexes test, as bits: `\p{L}`, `\p{N}`, `\s` (Unicode White_Space,
/// as Oniguruma's `\s`), `[\r\n]`.
enum ScalarClass {
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let space: UInt8 = 4
    static let newline: UInt8 = 8

    /// "Other" for the regexes: `[^\s\p{L}\p{N}]`.
    @inline(__always)
    static func isOther(_ c: UInt8) -> Bool { c & (letter | number | space) == 0 }

    private static let ascii: [UInt8] = (0..<128).map { classify(UInt32($0)) }

    @inline(__always)
    static func of(_ value: UInt32) -> UInt8 {
        value < 128 ? ascii[Int(value)] : classify(value)
    }

    static func classify(_ value: UInt32) -> UInt8 {
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        let properties = scalar.properties
        var bits: UInt8 = 0
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            bits |= letter
        case .decimalNumber, .letterNumber, .otherNumber:
            bits |= number
        default:
            break
        }
        if properties.isWhitespace { bits |= space }
        if value == 0x0A || value == 0x0D { bits |= newline }
        return bits
    }
}

/// One stretch of UTF-8 text decoded once into scalars, their classes and their byte offsets, so the
/// split scanners can look ahead and back cheaply.
/// scalars, classes: [n]; offsets: [n + 1] (byte offset of scalar i; offsets[n] = byte count).
struct ScalarText {
    var scalars: [UInt32] = []
    var classes: [UInt8] = []
    var offsets: [Int] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        scalars.reserveCapacity(range.count)
        classes.reserveCapacity(range.count)
        offsets.reserveCapacity(range.count + 1)
        var i = range.lowerBound
        while i < range.upperBound {
            let (value, length) = UTF8Scanning.decode(bytes, at: i, end: range.upperBound)
            scalars.append(value)
            classes.append(ScalarClass.of(value))
            offsets.append(i)
            i += length
        }
        offsets.append(range.upperBound)
    }

    var count: Int { scalars.count }
}

enum UTF8Scanning {
    /// Decodes the scalar starting at `i` (the buffer holds valid UTF-8: it came from a `String`).
    @inline(__always)
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int, end: Int) -> (UInt32, Int) {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0, i + 1 < end {
            return ((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F), 2)
        }
        if b0 < 0xF0, i + 2 < end {
            return ((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F), 3)
        }
        if i + 3 < end {
            return ((b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12
                    | UInt32(bytes[i + 2] & 0x3F) << 6 | UInt32(bytes[i + 3] & 0x3F), 4)
        }
        return (0xFFFD, 1)
    }
}
