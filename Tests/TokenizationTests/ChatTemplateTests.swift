import Foundation
import Testing

@testable import Tokenization

/// Fixture templates against transformers' `apply_chat_template` output, and the jinja2 oracle cases.
@Suite struct ChatTemplateTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    struct Reference: Decodable {
        struct Chat: Decodable {
            var messages: [ChatMessage]
            var add_generation_prompt: Bool
            var rendered: String
        }
        var chat: Chat
    }

    @Test(arguments: ["m2_qwen2_bias", "m3_mistral_spm"])
    func rendersFixtureLikeTransformers(model: String) throws {
        let config = try ChatTemplateConfig(
            contentsOf: Self.fixtures.appendingPathComponent("models/\(model)/tokenizer_config.json")
        )
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("reference/\(model).json"))
        let chat = try JSONDecoder().decode(Reference.self, from: data).chat
        let template = try ChatTemplate(source: try #require(config.template))
        let rendered = try template.render(
            messages: chat.messages,
            addGenerationPrompt: chat.add_generation_prompt,
            bosToken: config.bosToken,
            eosToken: config.eosToken
        )
        #expect(Array(rendered.utf8) == Array(chat.rendered.utf8))
    }

    static let haiku = [
        ChatMessage(role: "user", content: "Can you write a haiku about tokenizers?"),
        ChatMessage(
            role: "assistant",
            content: "Bytes become pieces,\nmerges stitch the common words \u{2014}\nvocab holds the world."
        ),
        ChatMessage(role: "user", content: "Now translate it to French, s'il vous pla\u{EE}t. \u{1F64F}"),
    ]

    @Test func tokenizerFixtureTemplates() throws {
        func render(_ name: String, _ messages: [ChatMessage], generation: Bool = true) throws -> String {
            let config = try ChatTemplateConfig(
                contentsOf: Self.fixtures.appendingPathComponent("tokenizers/\(name)/tokenizer_config.json")
            )
            return try ChatTemplate(source: try #require(config.template))
                .render(
                    messages: messages,
                    addGenerationPrompt: generation,
                    bosToken: config.bosToken,
                    eosToken: config.eosToken
                )
        }
        // Expected strings from jinja2 with transformers' environment.
        #expect(
            try render("t2_llama3", Self.haiku)
                == "<|begin_of_text|><|im_start|>user\nCan you write a haiku about tokenizers?<|im_end|>\n<|im_start|>assistant\nBytes become pieces,\nmerges stitch the common words \u{2014}\nvocab holds the world.<|im_end|>\n<|im_start|>user\nNow translate it to French, s'il vous pla\u{EE}t. \u{1F64F}<|im_end|>\n<|im_start|>assistant\n"
        )
        #expect(
            try render("t2_qwen2", Array(Self.haiku.prefix(1)), generation: false)
                == "<|im_start|>user\nCan you write a haiku about tokenizers?<|im_end|>\n"
        )
        let system = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: " Hi ")]
        #expect(try render("t3_spm", system) == "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n Hi [/INST]")
    }

    @Test func llama2RaisesOnBadAlternation() throws {
        let template = try ChatTemplate(source: Templates.llama2)
        let messages = [ChatMessage(role: "user", content: "a"), ChatMessage(role: "user", content: "b")]
        let error = try #require(throws: ChatTemplateError.self) {
            try template.render(messages: messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")
        }
        #expect(error.message == "Conversation roles must alternate user/assistant/user/assistant/...")
        #expect(error.line == 1)
        #expect(error.description.contains("Conversation roles must alternate"))
    }

    @Test func handDerivedRealTemplates() throws {
        let conversation = [
            ChatMessage(role: "system", content: "You are terse."),
            ChatMessage(role: "user", content: "Hi"),
            ChatMessage(role: "assistant", content: " Hello! "),
            ChatMessage(role: "user", content: "Bye"),
        ]
        let qwen = try ChatTemplate(source: Templates.qwen2)
        #expect(
            try qwen.render(
                messages: Array(conversation[1...1]),
                addGenerationPrompt: true,
                bosToken: nil,
                eosToken: nil
            )
                == "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        )
        let llama2 = try ChatTemplate(source: Templates.llama2)
        #expect(
            try llama2.render(messages: conversation, addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>")
                == "<s>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]"
        )
        let llama3 = try ChatTemplate(source: Templates.llama3)
        #expect(
            try llama3.render(
                messages: Array(conversation[1...2]),
                addGenerationPrompt: true,
                bosToken: "<|begin_of_text|>",
                eosToken: nil
            )
                == "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        )
    }

    @Test(arguments: oracleCases)
    func matchesJinja2(_ oracle: OracleCase) throws {
        let render = { () throws -> String in try ChatTemplate(source: oracle.template).render(context: oracle.context)
        }
        if let expected = oracle.expected {
            #expect(try render() == expected)
            return
        }
        let error = try #require(throws: ChatTemplateError.self) { try render() }
        if let jinja = oracle.jinjaError, jinja.hasPrefix("TemplateError: ") {
            #expect(error.message == String(jinja.dropFirst("TemplateError: ".count)))
        }
        #expect(!error.description.contains("\n"))
    }

    /// The plain-message API must agree with the context API for role/content-only conversations.
    @Test func messageAPIMatchesContextAPI() throws {
        for oracle in oracleCases
        where oracle.name.hasPrefix("llama31/conv3") || oracle.name.hasPrefix("mistral_v3/sys") {
            guard case .array(let raw)? = oracle.context["messages"], let expected = oracle.expected else { continue }
            let messages = raw.compactMap { value -> ChatMessage? in
                guard case .object(let o) = value, case .string(let role)? = o["role"],
                    case .string(let content)? = o["content"]
                else {
                    return nil
                }
                return ChatMessage(role: role, content: content)
            }
            var bos: String?, eos: String?
            if case .string(let s)? = oracle.context["bos_token"] { bos = s }
            if case .string(let s)? = oracle.context["eos_token"] { eos = s }
            let generation = oracle.context["add_generation_prompt"] == .bool(true)
            let rendered = try ChatTemplate(source: oracle.template)
                .render(messages: messages, addGenerationPrompt: generation, bosToken: bos, eosToken: eos)
            #expect(rendered == expected, "\(oracle.name)")
        }
    }

    /// Request JSON (tools, tool-call messages) parsed in key order renders like transformers' tool prompts.
    @Test func jsonRequestDataRendersToolTemplates() throws {
        let request = try JinjaValue(
            json: #"""
                {"tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}}}], "messages": [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}, {"role": "tool", "content": "22C, sunny"}]}
                """#
        )
        guard case .object(let body) = request else { Issue.record("not an object"); return }
        for name in ["llama31/tools", "qwen25/tools"] {
            let oracle = try #require(oracleCases.first { $0.name == name })
            var context = oracle.context
            context["tools"] = body["tools"]
            context["messages"] = body["messages"]
            #expect(try ChatTemplate(source: oracle.template).render(context: context) == oracle.expected, "\(name)")
        }
    }

    @Test func jsonParserKeepsOrderAndRejectsGarbage() throws {
        let value = try JinjaValue(json: #"{"b": 1, "a": [true, null, 2.5, "x\u00e9\ud83d\ude4f"], "b": 3}"#)
        guard case .object(let o) = value else { Issue.record("not an object"); return }
        #expect(o.keys == ["b", "a"])
        #expect(o["b"] == .int(3))
        #expect(o["a"] == .array([.bool(true), .none, .double(2.5), .string("x\u{E9}\u{1F64F}")]))
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "\"abc", "tru", "[1] 2", String(repeating: "[", count: 500)] {
            #expect(throws: ChatTemplateError.self) { try JinjaValue(json: bad) }
        }
    }

    @Test func configReadsTemplateListsAndAddedTokens() throws {
        let listed = Data(
            #"""
            {"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}],
             "bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>"}
            """#.utf8
        )
        let config = try ChatTemplateConfig(tokenizerConfigJSON: listed)
        #expect(config.template == "D")
        #expect(config.namedTemplates == ["default": "D", "tool_use": "T"])
        #expect(config.bosToken == "<s>" && config.eosToken == "</s>")
        let none = try ChatTemplateConfig(tokenizerConfigJSON: Data(#"{"bos_token": null}"#.utf8))
        #expect(none.template == nil && none.bosToken == nil)
        let bad = [
            #"{"chat_template": [{"name": "rag", "template": "R"}]}"#: "no \"default\" entry",
            #"{"chat_template": 3}"#: "must be a string or a list",
            #"{"chat_template": [3]}"#: "entries must be {name, template}",
            #"{"eos_token": {"x": 1}}"#: "eos_token object has no string \"content\"",
            "[1]": "expected a JSON object",
            "{": "not valid JSON",
        ]
        for (json, message) in bad {
            let error = try #require(throws: ChatTemplateError.self) {
                try ChatTemplateConfig(tokenizerConfigJSON: Data(json.utf8), source: "x/tokenizer_config.json")
            }
            #expect(error.message.contains(message) && error.message.hasPrefix("x/tokenizer_config.json"), "\(error)")
        }
    }

    /// `tools`/`documents` default to none (transformers passes None), nil special tokens stay undefined, and
    /// the named arguments win over `extraContext`.
    @Test func contextDefaultsAndPrecedence() throws {
        let template = try ChatTemplate(
            source: "{{ tools is none }}|{{ documents is none }}|{{ bos_token is defined }}|{{ eos_token }}|"
                + "{{ date_string }}|{{ add_generation_prompt }}|{{ messages|length }}"
        )
        let rendered = try template.render(
            messages: [ChatMessage(role: "user", content: "hi")],
            addGenerationPrompt: true,
            bosToken: nil,
            eosToken: "</s>",
            extraContext: ["date_string": "26 Jul 2024", "eos_token": "ignored", "add_generation_prompt": false]
        )
        #expect(rendered == "True|True|False|</s>|26 Jul 2024|True|1")
        let withTools = try template.render(
            messages: [],
            addGenerationPrompt: false,
            bosToken: "<s>",
            eosToken: nil,
            extraContext: ["tools": .array([])]
        )
        #expect(withTools == "False|True|True|||False|0")
    }
}
