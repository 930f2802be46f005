/// Python `str` methods on Unicode scalars (Python strings index by code point, and its whitespace is `str.isspace`).
enum JinjaStrings {
    static func strip(_ s: String, _ chars: String?, leading: Bool, trailing: Bool) -> String {
        let scalars = Array(s.unicodeScalars)
        let set = chars.map { Set($0.unicodeScalars) }
        let drop: (Unicode.Scalar) -> Bool = { set?.contains($0) ?? JinjaLexer.isSpace($0) }
        var lo = 0, hi = scalars.count
        if leading { while lo < hi, drop(scalars[lo]) { lo += 1 } }
        if trailing { while hi > lo, drop(scalars[hi - 1]) { hi -= 1 } }
        return make(scalars[lo..<hi])
    }

    static func make(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// `str.split(sep, maxsplit)`; with no separator, splits on runs of whitespace and drops empty parts.
    static func split(_ s: String, _ sep: String?, maxSplit: Int) -> [String] {
        let scalars = Array(s.unicodeScalars)
        var parts: [String] = []
        guard let sep else {
            var i = 0
            while i < scalars.count {
                while i < scalars.count, JinjaLexer.isSpace(scalars[i]) { i += 1 }
                guard i < scalars.count else { break }
                if maxSplit >= 0 && parts.count == maxSplit {
                    parts.append(make(scalars[i...]))
                    return parts
                }
                let start = i
                while i < scalars.count, !JinjaLexer.isSpace(scalars[i]) { i += 1 }
                parts.append(make(scalars[start..<i]))
            }
            return parts
        }
        let needle = Array(sep.unicodeScalars)
        var start = 0, i = 0
        while i + needle.count <= scalars.count {
            if (maxSplit < 0 || parts.count < maxSplit), scalars[i..<(i + needle.count)].elementsEqual(needle) {
                parts.append(make(scalars[start..<i]))
                i += needle.count
                start = i
            } else {
                i += 1
            }
        }
        parts.append(make(scalars[start...]))
        return parts
    }

    /// jinja2's `wordcount`: the number of `\w+` runs.
    static func wordCount(_ s: String) -> Int {
        var count = 0, inWord = false
        for scalar in s.unicodeScalars {
            let isWord = scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil
            if isWord && !inWord { count += 1 }
            inWord = isWord
        }
        return count
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        if old.isEmpty {
            // Python inserts `new` between every character (and at both ends).
            var pieces = s.unicodeScalars.map { String($0) }
            pieces.insert("", at: 0)
            pieces.append("")
            let limit = count < 0 ? pieces.count : min(count, pieces.count - 1)
            var out = ""
            for (index, piece) in pieces.enumerated() {
                out += piece; if index < limit && index < pieces.count - 1 { out += new }
            }
            return out
        }
        let parts = split(s, old, maxSplit: count)
        return parts.joined(separator: new)
    }

    static func find(_ s: String, _ needle: String) -> Int {
        let hay = Array(s.unicodeScalars), n = Array(needle.unicodeScalars)
        guard n.count <= hay.count else { return -1 }
        for i in 0...(hay.count - n.count) where hay[i..<(i + n.count)].elementsEqual(n) { return i }
        return -1
    }

    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + make(s.unicodeScalars.dropFirst()).lowercased()
    }

    /// jinja2's `title` filter: upper-case the first letter after `-`, whitespace or an opening bracket.
    static func titleFilter(_ s: String) -> String {
        var out = "", atWordStart = true
        for scalar in s.unicodeScalars {
            let isBoundary = JinjaLexer.isSpace(scalar) || "-({[<".unicodeScalars.contains(scalar)
            if isBoundary {
                out.unicodeScalars.append(scalar)
            } else {
                out += atWordStart ? String(scalar).uppercased() : String(scalar).lowercased()
            }
            atWordStart = isBoundary
        }
        return out
    }

    /// Python's `str.title()`: a letter following a non-letter starts a word.
    static func titleMethod(_ s: String) -> String {
        var out = "", previousCased = false
        for scalar in s.unicodeScalars {
            let cased = scalar.properties.isCased
            out += previousCased ? String(scalar).lowercased() : String(scalar).uppercased()
            previousCased = cased
        }
        return out
    }

    static func htmlEscape(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}
