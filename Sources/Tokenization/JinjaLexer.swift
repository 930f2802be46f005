/// A position in a template source, 1-based, counted in Unicode scalars after newline normalization.
struct JinjaPosition: Sendable, Equatable, CustomStringConvertible {
    var line: Int
    var column: Int
    var description: String { "line \(line), column \(column)" }
}

struct JinjaToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String), string(String), int(Int), float(Double), op(String)
        case eof
    }
    var kind: Kind
    var position: JinjaPosition
}

/// Splits a template into text and tag tokens the way jinja2's lexer does with HF's settings
/// (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`): whitespace control is
/// applied here so the parser only sees the text that will be printed.
struct JinjaLexer {
    private let src: [Unicode.Scalar]
    private var lineStarts: [Int] = [0]
    private var tokens: [JinjaToken] = []
    private var i = 0
    /// jinja2's `line_starting`: the previous match ended with a newline, so lstrip may apply at offset 0.
    private var lineStarting = true

    static func tokenize(_ source: String) throws(ChatTemplateError) -> [JinjaToken] {
        var lexer = JinjaLexer(source: source)
        try lexer.run()
        return lexer.tokens
    }

    private init(source: String) {
        // jinja2 turns \r\n and \r into \n, then drops one trailing newline.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.unicodeScalars.count)
        var previousCR = false
        for s in source.unicodeScalars {
            if s == "\r" { scalars.append("\n"); previousCR = true; continue }
            if s == "\n" && previousCR { previousCR = false; continue }
            previousCR = false
            scalars.append(s)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        src = scalars
        for (index, s) in src.enumerated() where s == "\n" { lineStarts.append(index + 1) }
    }

    func position(_ index: Int) -> JinjaPosition {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= index { lo = mid } else { hi = mid - 1 }
        }
        return JinjaPosition(line: lo + 1, column: index - lineStarts[lo] + 1)
    }

    private func error(_ message: String, at index: Int) -> ChatTemplateError {
        ChatTemplateError(message, at: position(index))
    }

    private func at(_ k: Int) -> Unicode.Scalar? { k < src.count ? src[k] : nil }

    private func matches(_ literal: String, at k: Int) -> Bool {
        var j = k
        for s in literal.unicodeScalars {
            guard at(j) == s else { return false }
            j += 1
        }
        return true
    }

    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
    }

    private mutating func run() throws(ChatTemplateError) {
        while i < src.count {
            guard let tagStart = nextTagStart(from: i) else {
                emitText(src[i...])
                break
            }
            let kind = src[tagStart + 1]
            var afterBegin = tagStart + 2
            let sign = at(afterBegin)
            let hasSign = sign == "-" || sign == "+"
            if hasSign { afterBegin += 1 }
            var text = src[i..<tagStart]
            if sign == "-" {
                while let last = text.last, JinjaLexer.isSpace(last) { text.removeLast() }
            } else if sign != "+" && kind != "{" {
                text = lstripped(text)
            }
            emitText(text)
            switch kind {
            case "#": try skipComment(from: afterBegin, tagStart: tagStart)
            case "%":
                if try !lexRaw(from: afterBegin, tagStart: tagStart) {
                    tokens.append(JinjaToken(kind: .blockBegin, position: position(tagStart)))
                    try lexTag(from: afterBegin, isBlock: true, tagStart: tagStart)
                }
            default:
                tokens.append(JinjaToken(kind: .variableBegin, position: position(tagStart)))
                try lexTag(from: afterBegin, isBlock: false, tagStart: tagStart)
            }
        }
        tokens.append(JinjaToken(kind: .eof, position: position(src.count)))
    }

    private func nextTagStart(from k: Int) -> Int? {
        var j = k
        while j + 1 < src.count {
            if src[j] == "{", src[j + 1] == "{" || src[j + 1] == "%" || src[j + 1] == "#" { return j }
            j += 1
        }
        return nil
    }

    /// lstrip_blocks: drop spaces between the last line start and a block or comment tag.
    private func lstripped(_ text: ArraySlice<Unicode.Scalar>) -> ArraySlice<Unicode.Scalar> {
        let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? text.startIndex
        guard lineStart > text.startIndex || lineStarting, lineStart < text.endIndex else { return text }
        guard text[lineStart...].allSatisfy(JinjaLexer.isSpace) else { return text }
        return text[..<lineStart]
    }

    private mutating func emitText(_ text: ArraySlice<Unicode.Scalar>) {
        guard !text.isEmpty else { return }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: text)
        tokens.append(JinjaToken(kind: .text(String(s)), position: position(text.startIndex)))
    }

    /// Consumes a tag end (`%}`, `-%}`, `+%}`, `}}`, `-}}`) starting at `k` and applies trim rules.
    private mutating func consumeEnd(at k: Int, closerLength: Int, minusAt: Bool, trimNewline: Bool) {
        var j = k + closerLength
        if minusAt {
            while let s = at(j), JinjaLexer.isSpace(s) { j += 1 }
        } else if trimNewline, at(j) == "\n" {
            j += 1
        }
        lineStarting = j > k + closerLength && src[j - 1] == "\n"
        i = j
    }

    private mutating func skipComment(from k: Int, tagStart: Int) throws(ChatTemplateError) {
        var j = k
        while j + 1 < src.count, !(src[j] == "#" && src[j + 1] == "}") { j += 1 }
        guard j + 1 < src.count else { throw error("missing end of comment tag '#}'", at: tagStart) }
        let sign = j > k ? src[j - 1] : nil
        consumeEnd(at: j, closerLength: 2, minusAt: sign == "-", trimNewline: sign != "+")
    }

    /// `{% raw %}...{% endraw %}`: the body is emitted verbatim.
    private mutating func lexRaw(from k: Int, tagStart: Int) throws(ChatTemplateError) -> Bool {
        var j = k
        while let s = at(j), JinjaLexer.isSpace(s) { j += 1 }
        guard matches("raw", at: j) else { return false }
        j += 3
        if let s = at(j), s == "_" || s.properties.isAlphabetic || s.properties.numericType != nil { return false }
        while let s = at(j), JinjaLexer.isSpace(s) { j += 1 }
        if matches("-%}", at: j) {
            j += 3
            while let s = at(j), JinjaLexer.isSpace(s) { j += 1 }
            lineStarting = src[j - 1] == "\n"
        } else if matches("%}", at: j) {
            j += 2
            lineStarting = false
        } else {
            return false
        }
        let bodyStart = j
        while j < src.count {
            guard let end = nextTagStart(from: j) else { break }
            var m = end + 2
            let sign = at(m)
            if sign == "-" || sign == "+" { m += 1 }
            while let s = at(m), JinjaLexer.isSpace(s) { m += 1 }
            if src[end + 1] == "%", matches("endraw", at: m) {
                m += 6
                while let s = at(m), JinjaLexer.isSpace(s) { m += 1 }
                let minus = matches("-%}", at: m), plus = matches("+%}", at: m)
                if minus || plus || matches("%}", at: m) {
                    var body = src[bodyStart..<end]
                    if sign == "-" {
                        while let last = body.last, JinjaLexer.isSpace(last) { body.removeLast() }
                    } else if sign != "+" {
                        body = lstripped(body)
                    }
                    emitText(body)
                    consumeEnd(at: minus || plus ? m + 1 : m, closerLength: 2, minusAt: minus, trimNewline: !plus)
                    return true
                }
            }
            j = end + 1
        }
        throw error("missing end of raw directive '{% endraw %}'", at: tagStart)
    }

    private mutating func lexTag(from k: Int, isBlock: Bool, tagStart: Int) throws(ChatTemplateError) {
        var j = k
        var brackets: [(Unicode.Scalar, Int)] = []
        while true {
            while let s = at(j), JinjaLexer.isSpace(s) { j += 1 }
            guard let c = at(j) else {
                let what = isBlock ? "end of statement block '%}'" : "end of print statement '}}'"
                throw error("unexpected end of template, expected \(what)", at: tagStart)
            }
            if brackets.isEmpty {
                let closer = isBlock ? "%}" : "}}"
                if matches("-" + closer, at: j) {
                    tokens.append(JinjaToken(kind: isBlock ? .blockEnd : .variableEnd, position: position(j)))
                    consumeEnd(at: j + 1, closerLength: 2, minusAt: true, trimNewline: false)
                    return
                }
                if isBlock, matches("+%}", at: j) {
                    tokens.append(JinjaToken(kind: .blockEnd, position: position(j)))
                    consumeEnd(at: j + 1, closerLength: 2, minusAt: false, trimNewline: false)
                    return
                }
                if matches(closer, at: j) {
                    tokens.append(JinjaToken(kind: isBlock ? .blockEnd : .variableEnd, position: position(j)))
                    consumeEnd(at: j, closerLength: 2, minusAt: false, trimNewline: isBlock)
                    return
                }
            }
            let start = j
            let kind: JinjaToken.Kind
            if c == "_" || (c.isASCII && c.properties.isAlphabetic) {
                while let s = at(j),
                    s == "_" || (s.isASCII && (s.properties.isAlphabetic || s.properties.numericType != nil))
                {
                    j += 1
                }
                kind = .name(string(start..<j))
            } else if c.isASCII, c.properties.numericType != nil {
                kind = try lexNumber(&j)
            } else if c == "'" || c == "\"" {
                kind = .string(try lexString(&j))
            } else {
                let op = try lexOperator(&j)
                try balance(op, at: start, &brackets)
                kind = .op(op)
            }
            tokens.append(JinjaToken(kind: kind, position: position(start)))
        }
    }

    private func string(_ range: Range<Int>) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: src[range])
        return String(s)
    }

    private func balance(_ op: String, at k: Int, _ brackets: inout [(Unicode.Scalar, Int)]) throws(ChatTemplateError) {
        switch op {
        case "(": brackets.append((")", k))
        case "[": brackets.append(("]", k))
        case "{": brackets.append(("}", k))
        case ")", "]", "}":
            guard let (expected, _) = brackets.popLast() else { throw error("unexpected '\(op)'", at: k) }
            if String(expected) != op { throw error("unexpected '\(op)', expected '\(expected)'", at: k) }
        default: break
        }
    }

    private static let operators = [
        "//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]",
        "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";",
    ]

    private func lexOperator(_ j: inout Int) throws(ChatTemplateError) -> String {
        for op in JinjaLexer.operators where matches(op, at: j) {
            j += op.unicodeScalars.count
            return op
        }
        throw error("unexpected character '\(src[j])'", at: j)
    }

    private func digits(_ j: inout Int) {
        while let s = at(j),
            (s.isASCII && s.properties.numericType != nil) || (s == "_" && at(j + 1)?.properties.numericType != nil)
        {
            j += 1
        }
    }

    private func lexNumber(_ j: inout Int) throws(ChatTemplateError) -> JinjaToken.Kind {
        let start = j
        digits(&j)
        var isFloat = false
        let afterDot = start > 0 && src[start - 1] == "."
        if !afterDot, at(j) == ".", let d = at(j + 1), d.isASCII, d.properties.numericType != nil {
            j += 1
            digits(&j)
            isFloat = true
        }
        if !afterDot, at(j) == "e" || at(j) == "E" {
            var m = j + 1
            if at(m) == "+" || at(m) == "-" { m += 1 }
            if let d = at(m), d.isASCII, d.properties.numericType != nil {
                j = m
                digits(&j)
                isFloat = true
            }
        }
        let text = string(start..<j).replacingOccurrences(of: "_", with: "")
        if isFloat, let d = Double(text) { return .float(d) }
        if !isFloat, let n = Int(text) { return .int(n) }
        throw error("number literal '\(text)' out of range", at: start)
    }

    private func lexString(_ j: inout Int) throws(ChatTemplateError) -> String {
        let start = j
        let quote = src[j]
        j += 1
        var out = String.UnicodeScalarView()
        while let s = at(j), s != quote {
            j += 1
            guard s == "\\", let e = at(j) else { out.append(s); continue }
            j += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\", "'", "\"": out.append(e)
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case "\n": break
            case "x", "u", "U":
                let width = e == "x" ? 2 : (e == "u" ? 4 : 8)
                let hex = j + width <= src.count ? string(j..<(j + width)) : ""
                guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                    throw error("invalid \\\(e) escape in string literal", at: j - 2)
                }
                out.append(scalar)
                j += width
            case "0"..."7":
                var v = e.value - 48, n = 1
                while n < 3, let d = at(j), ("0"..."7").contains(d) { v = v * 8 + d.value - 48; j += 1; n += 1 }
                guard let scalar = Unicode.Scalar(v) else { throw error("invalid octal escape", at: j) }
                out.append(scalar)
            default:
                out.append("\\")
                out.append(e)
            }
        }
        guard at(j) == quote else { throw error("unterminated string literal", at: start) }
        j += 1
        return String(out)
    }
}
