import Testing

@testable import Tokenization

/// Bad templates fail with one-line errors naming the construct and its position; nothing crashes.
@Suite struct ChatTemplateErrorTests {
    static let context: [String: JinjaValue] = [
        "messages": .array([
            .object(["role": "user", "content": "hi"]), .object(["role": "assistant", "content": "yo"]),
        ]),
        "add_generation_prompt": .bool(true), "bos_token": "<s>", "eos_token": "</s>", "tools": .none,
    ]

    func parseError(_ source: String) throws -> ChatTemplateError {
        try #require(throws: ChatTemplateError.self) { try ChatTemplate(source: source) }
    }

    @Test(arguments: [
        ("{{ x|frobnicate }}", "unknown filter 'frobnicate'", 1, 5),
        ("a\n{% include 'other.jinja' %}", "unsupported tag 'include'", 2, 4),
        ("{% frob %}", "unknown tag 'frob'", 1, 4),
        ("{% for m in messages %}{{ m is shiny }}{% endfor %}", "unknown test 'shiny'", 1, 29),
        ("{% for m in messages %}\n{{ m }}", "'for' block opened at line 1, column 4 is not closed", 2, 8),
        ("{% if x %}a{% else %}b", "'if' block opened at line 1, column 4 is not closed", 1, 23),
        ("{% if x %}a{% endfor %}", "unexpected tag 'endfor' inside 'if' block", 1, 15),
        ("{% endif %}", "unexpected tag 'endif'", 1, 4),
        ("{{ 1 + }}", "expected an expression, found '}}'", 1, 8),
        ("{{ a b }}", "expected '}}' to end the print statement, found 'b'", 1, 6),
        ("{{ 'open }}", "unterminated string literal", 1, 4),
        ("{{ (1 }}", "unexpected '}', expected ')'", 1, 7),
        ("{{ x", "unexpected end of template, expected end of print statement '}}'", 1, 1),
        ("{# never closed", "missing end of comment tag '#}'", 1, 1),
        ("{% for in messages %}{% endfor %}", "expected 'in' in for loop, found 'messages'", 1, 11),
        ("{% set x = [1, 2 %}", "unexpected '}', expected ']'", 1, 19),
        ("{{ x $ y }}", "unexpected character '$'", 1, 6),
        ("{% for x in y recursive %}{% endfor %}", "unsupported recursive for loop", 1, 15),
        ("{{ f(*args) }}", "unsupported *args/**kwargs in call", 1, 6),
    ])
    func syntaxErrorsNameConstructAndPosition(source: String, message: String, line: Int, column: Int) throws {
        let error = try parseError(source)
        #expect(error.message.contains(message), "\(error)")
        #expect(error.line == line && error.column == column, "\(error)")
        #expect(!error.description.contains("\n"))
        #expect(error.description.contains("line \(line), column \(column)"))
    }

    @Test(arguments: [
        ("{{ 'a'.frob() }}", "unsupported method 'frob' on 'str'"),
        ("{{ messages.append(1) }}", "unsupported method 'append' on 'list'"),
        ("{{ nope() }}", "unknown function 'nope'"),
        ("{% if messages is shiny %}{% endif %}", "unknown test 'shiny'"),
        ("{{ 'a' if messages|frob else 'b' }}", "unknown filter 'frob'"),
        ("{{ 1 is number(2) }}", "test 'number' takes no arguments"),
        ("{{ raise_exception('custom\nmessage') }}", "custom\nmessage"),
        ("{{ '%s %s' % 1 }}", "not enough arguments for format string"),
        ("{{ '%q' % 1 }}", "unsupported format character 'q'"),
        ("{% set d = {} %}{% set d.x = 1 %}", "cannot assign attribute 'x' on 'd': not a namespace"),
        ("{{ 'x' * 100000000 }}", "string repetition too large"),
        ("{% for i in range(10000000) %}{% endfor %}", "range() of 10000000 items is too large"),
        ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "recursion deeper than"),
        ("{{ 9223372036854775807 + 1 }}", "integer overflow"),
        ("{{ messages[0].content.missing.deeper }}", "'messages[0].content.missing' is undefined"),
    ])
    func renderErrorsAreOneLine(source: String, message: String) throws {
        let template = try ChatTemplate(source: source)
        let error = try #require(throws: ChatTemplateError.self) { try template.render(context: Self.context) }
        #expect(error.message.contains(message), "\(error)")
        #expect(error.line != nil)
        #expect(!error.description.contains("\n"))
    }

    /// Like jinja2, unknown filters inside `if` blocks or conditional expressions only fail when evaluated.
    @Test func unknownFilterInDeadBranchStillRenders() throws {
        let source = "{% if tools %}{{ tools|dictsort }}{% endif %}{{ 'x' if true else y|frob }}ok"
        #expect(try ChatTemplate(source: source).render(context: Self.context) == "xok")
    }

    @Test func deepNestingIsRejectedNotOverflowed() throws {
        let deep = "{{ " + String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000) + " }}"
        #expect(try parseError(deep).message.contains("deeper than"))
        let long = "{{ 1" + String(repeating: " + 1", count: 10_000) + " }}"
        #expect(try parseError(long).message.contains("deeper than"))
        let blocks = String(repeating: "{% if true %}", count: 5_000)
        #expect(try parseError(blocks).message.contains("deeper than"))
        let nots = "{{ " + String(repeating: "not ", count: 10_000) + "x }}"
        #expect(try parseError(nots).message.contains("deeper than"))
        // Just inside the limit still parses and renders.
        let ok = "{{ " + String(repeating: "(", count: 40) + "1" + String(repeating: ")", count: 40) + " }}"
        #expect(try ChatTemplate(source: ok).render(context: [:]) == "1")
    }

    /// Every prefix and every fifth one-character deletion of real templates either parses and renders or throws.
    @Test(arguments: ["llama31", "qwen25", "mistral_v3", "ns_macro", "zephyr", "deepseek_r1"])
    func mutatedTemplatesNeverCrash(name: String) throws {
        let source = try #require(
            [
                "llama31": Templates.llama31, "qwen25": Templates.qwen25, "mistral_v3": Templates.mistral_v3,
                "ns_macro": Templates.ns_macro, "zephyr": Templates.zephyr, "deepseek_r1": Templates.deepseek_r1,
            ][name]
        )
        let scalars = Array(source.unicodeScalars)
        var rendered = 0, failed = 0
        func attempt(_ candidate: some Sequence<Unicode.Scalar>) {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: candidate)
            do {
                _ = try ChatTemplate(source: String(view)).render(context: Self.context)
                rendered += 1
            } catch {
                failed += 1
                #expect(!"\(error)".contains("\n"))
            }
        }
        for cut in 0...scalars.count { attempt(scalars[..<cut]) }
        for hole in stride(from: 0, to: scalars.count, by: 5) { attempt(scalars[..<hole] + scalars[(hole + 1)...]) }
        #expect(rendered > 0 && failed > 0)
        #expect(rendered + failed == scalars.count + 1 + (scalars.count + 4) / 5)
    }
}
