import Foundation
import NIOCore
import Testing
import Wire
@testable import Router

/// Request bodies → assignments, and every kind of bad request → its status, param and message.
@Suite("API request validation and mapping")
struct APIRequestTests {
    static let settings = APISettings(requestTimeout: .seconds(600), maxRequestTimeout: .seconds(3600))

    static func parse(_ json: String, route: APIRequest.Route = .completion) throws(OpenAIError) -> APIRequest {
        try APIRequest.parse(Array(json.utf8), route: route, settings: settings)
    }

    static func error(_ json: String, route: APIRequest.Route = .completion) -> OpenAIError? {
        do {
            _ = try parse(json, route: route)
            return nil
        } catch {
            return error
        }
    }

    @Test("every listed parameter reaches the assignment")
    func fullMapping() throws {
        let request = try Self.parse("""
            {"model": "m", "prompt": "def f():", "max_tokens": 40, "temperature": 0.5, "top_p": 0.9, "top_k": 20,
             "min_p": 0.05, "presence_penalty": 0.5, "frequency_penalty": -0.5, "repetition_penalty": 1.2, "seed": 7,
             "stop": ["\\n\\n", "```"], "ignore_eos": true, "logit_bias": {"5": -100, "17": 2.5}, "speculation": 4,
             "timeout": 12.5, "stream": true, "stream_options": {"include_usage": true}, "n": 1, "user": "u"}
            """)
        let assignment = request.job.assignment
        #expect(request.job.model == "m" && request.job.maxTokens == 40 && assignment.maxTokens == 40)
        #expect(assignment.prompt == .text("def f():"))
        #expect(assignment.sampling == SamplingParameters(temperature: 0.5, topK: 20, topP: 0.9, minP: 0.05, repetitionPenalty: 1.2,
                                                          presencePenalty: 0.5, frequencyPenalty: -0.5, logitBias: [5: -100, 17: 2.5], seed: 7))
        #expect(assignment.stopStrings == ["\n\n", "```"] && assignment.ignoreEOS)
        #expect(assignment.speculation == .fixed(4))
        #expect(request.job.timeout == .nanoseconds(12_500_000_000))
        #expect(request.stream && request.includeUsage)
    }

    @Test("defaults: OpenAI's sampling, 16 tokens for completions, the model's limit for chat, speculation auto")
    func defaults() throws {
        let completion = try Self.parse(#"{"model": "m", "prompt": "x"}"#)
        #expect(completion.job.maxTokens == 16)
        #expect(completion.job.assignment.sampling == SamplingParameters())
        #expect(completion.job.assignment.speculation == .auto(cap: nil))
        #expect(completion.job.timeout == .seconds(600) && !completion.stream && !completion.includeUsage)
        let chat = try Self.parse(#"{"model": "m", "messages": [{"role": "user", "content": "hi"}]}"#, route: .chat)
        #expect(chat.job.maxTokens == nil)
        #expect(chat.job.assignment.prompt == .chat([ChatMessage(role: "user", content: "hi")]))
    }

    @Test("prompt forms: a string, one string in a list, token ids, one list of token ids")
    func promptForms() throws {
        #expect(try Self.parse(#"{"model": "m", "prompt": ["a"]}"#).job.assignment.prompt == .text("a"))
        #expect(try Self.parse(#"{"model": "m", "prompt": [1, 2, 3]}"#).job.assignment.prompt == .tokens([1, 2, 3]))
        #expect(try Self.parse(#"{"model": "m", "prompt": [[4, 5]]}"#).job.assignment.prompt == .tokens([4, 5]))
    }

    @Test("chat content: strings, text parts joined, null as empty; speculation off; max_completion_tokens")
    func chatForms() throws {
        let request = try Self.parse("""
            {"model": "m", "messages": [{"role": "system", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
             {"role": "assistant", "content": null}, {"role": "user", "content": "c", "name": "x"}],
             "speculation": "off", "max_completion_tokens": 9, "logprobs": false, "tool_choice": "none"}
            """, route: .chat)
        #expect(request.job.assignment.prompt == .chat([ChatMessage(role: "system", content: "ab"), ChatMessage(role: "assistant", content: ""),
                                                         ChatMessage(role: "user", content: "c")]))
        #expect(request.job.assignment.speculation == .off && request.job.maxTokens == 9)
    }

    @Test("logprobs: completions' count of alternatives, chat's flag with top_logprobs (0 when absent); off when absent or null")
    func logprobs() throws {
        #expect(try Self.parse(#"{"model": "m", "prompt": "x", "logprobs": 2}"#).job.assignment.logprobs == 2)
        #expect(try Self.parse(#"{"model": "m", "prompt": "x", "logprobs": 0}"#).job.assignment.logprobs == 0)
        #expect(try Self.parse(#"{"model": "m", "prompt": "x", "logprobs": 20}"#).job.assignment.logprobs == 20)
        #expect(try Self.parse(#"{"model": "m", "prompt": "x", "logprobs": null}"#).job.assignment.logprobs == nil)
        #expect(try Self.parse(#"{"model": "m", "prompt": "x"}"#).job.assignment.logprobs == nil)
        let chat = { (extra: String) throws in
            try Self.parse(#"{"model": "m", "messages": [{"role": "user", "content": "x"}]\#(extra)}"#, route: .chat).job.assignment.logprobs
        }
        #expect(try chat(#", "logprobs": true, "top_logprobs": 3"#) == 3)
        #expect(try chat(#", "logprobs": true"#) == 0)
        #expect(try chat(#", "logprobs": true, "top_logprobs": null"#) == 0)
        #expect(try chat(#", "logprobs": false"#) == nil)
        #expect(try chat("") == nil)
    }

    @Test("bad requests name the field", arguments: [
        (#"not json"#, nil as String?, "not valid JSON"),
        (#"[1, 2]"#, nil, "expected a JSON object"),
        (#"{"prompt": "x"}"#, "model", "\"model\" is required"),
        (#"{"model": "m"}"#, "prompt", "\"prompt\" is required"),
        (#"{"model": "m", "prompt": 5}"#, "prompt", "expected a string or an array of token ids"),
        (#"{"model": "m", "prompt": ["a", "b"]}"#, "prompt", "one prompt per request"),
        (#"{"model": "m", "prompt": [-1]}"#, "prompt", "not an integer in [0, 4294967295]"),
        (#"{"model": "m", "prompt": "x", "temperature": 3}"#, "temperature", "temperature is 3; expected a number in [0, 2]"),
        (#"{"model": "m", "prompt": "x", "temperature": "hot"}"#, "temperature", "temperature is a string; expected a number"),
        (#"{"model": "m", "prompt": "x", "top_p": 0}"#, "top_p", "expected a number in (0, 1]"),
        (#"{"model": "m", "prompt": "x", "top_k": -2}"#, "top_k", "top_k is -2"),
        (#"{"model": "m", "prompt": "x", "min_p": 1.5}"#, "min_p", "min_p is 1.5"),
        (#"{"model": "m", "prompt": "x", "presence_penalty": 3}"#, "presence_penalty", "[-2, 2]"),
        (#"{"model": "m", "prompt": "x", "repetition_penalty": 0}"#, "repetition_penalty", "(0, 10]"),
        (#"{"model": "m", "prompt": "x", "max_tokens": 0}"#, "max_tokens", "max_tokens is 0"),
        (#"{"model": "m", "prompt": "x", "max_tokens": 2.5}"#, "max_tokens", "expected an integer"),
        (#"{"model": "m", "prompt": "x", "stream": 1}"#, "stream", "expected true or false"),
        (#"{"model": "m", "prompt": "x", "stream_options": {"include_usage": true}}"#, "stream_options", "only allowed with \"stream\": true"),
        (#"{"model": "m", "prompt": "x", "stop": ""}"#, "stop", "1-256 bytes"),
        (#"{"model": "m", "prompt": "x", "stop": [1]}"#, "stop[0]", "expected a string"),
        (#"{"model": "m", "prompt": "x", "logit_bias": {"a": 1}}"#, "logit_bias", "not a token id"),
        (#"{"model": "m", "prompt": "x", "logit_bias": {"1": 101}}"#, "logit_bias", "[-100, 100]"),
        (#"{"model": "m", "prompt": "x", "speculation": "always"}"#, "speculation", "expected \"auto\", \"off\" or a draft count"),
        (#"{"model": "m", "prompt": "x", "timeout": 0}"#, "timeout", "timeout is 0"),
        (#"{"model": "m", "prompt": "x", "timeout": 99999}"#, "timeout", "timeout is 99999"),
        (#"{"model": "m", "prompt": "x", "n": 2}"#, "n", "one choice per request"),
        (#"{"model": "m", "prompt": "x", "n": 0}"#, "n", "n is 0"),
        (#"{"model": "m", "prompt": "x", "logprobs": 21}"#, "logprobs", "logprobs is 21; expected an integer in [0, 20]"),
        (#"{"model": "m", "prompt": "x", "logprobs": -1}"#, "logprobs", "logprobs is -1"),
        (#"{"model": "m", "prompt": "x", "logprobs": true}"#, "logprobs", "logprobs is a boolean; expected an integer"),
        (#"{"model": "m", "prompt": "x", "echo": true}"#, "echo", "echo is not supported"),
        (#"{"model": "m", "prompt": "x", "best_of": 3}"#, "best_of", "best_of is 3"),
        (#"{"model": "m", "prompt": "x", "max_tokens": 5, "max_completion_tokens": 6}"#, "max_tokens", "disagree"),
    ])
    func badCompletions(json: String, param: String?, message: String) {
        Self.expectBadRequest(Self.error(json), param: param, message: message)
    }

    static func expectBadRequest(_ error: OpenAIError?, param: String?, message: String) {
        #expect(error?.status == 400)
        #expect(error?.type == "invalid_request_error")
        #expect(error?.param == param)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "no error")")
    }

    @Test("bad chat requests name the field", arguments: [
        (#"{"model": "m"}"#, "messages", "\"messages\" is required"),
        (#"{"model": "m", "messages": []}"#, "messages", "messages is empty"),
        (#"{"model": "m", "messages": [{"role": "wizard", "content": "x"}]}"#, "messages[0].role", "must be one of"),
        (#"{"model": "m", "messages": [{"role": "user", "content": 5}]}"#, "messages[0].content", "expected a string or an array of text parts"),
        (#"{"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"#, "messages[0].content[0]", "only text content"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "logprobs": 1}"#, "logprobs", "expected true or false"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}"#, "top_logprobs", "needs \"logprobs\": true"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "logprobs": false, "top_logprobs": 2}"#, "top_logprobs", "needs \"logprobs\": true"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 21}"#, "top_logprobs", "top_logprobs is 21; expected an integer in [0, 20]"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": "3"}"#, "top_logprobs", "expected an integer"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}"#, "tools", "tools are not supported"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}}"#, "response_format", "not supported"),
        (#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 4}"#, "n", "one choice per request"),
    ])
    func badChats(json: String, param: String?, message: String) {
        Self.expectBadRequest(Self.error(json, route: .chat), param: param, message: message)
    }

    @Test("a prompt that cannot cross the wire is 413")
    func promptTooLarge() {
        let big = String(repeating: "x", count: WireLimits.default.maxFrameBytes)
        let error = Self.error(#"{"model": "m", "prompt": "\#(big)"}"#)
        #expect(error?.status == 413 && error?.code == "request_too_large")
    }
}

@Suite("API keys")
struct APIKeysTests {
    @Test("only configured keys pass, whatever their length")
    func matching() throws {
        let keys = try APIKeys(["sk-alpha-0123456789", "short"])
        #expect(keys.contains("sk-alpha-0123456789".utf8) && keys.contains("short".utf8))
        for wrong in ["sk-alpha-012345678", "sk-alpha-01234567890", "shorT", "", "s", "sk-alpha-0123456789 "] {
            #expect(!keys.contains(wrong.utf8), "\(wrong)")
        }
    }

    @Test("the Authorization header must be 'Bearer <key>'")
    func header() throws {
        let keys = try APIKeys(["k1"])
        #expect(throws: Never.self) { try keys.authorize("Bearer k1") }
        #expect(throws: Never.self) { try keys.authorize("bearer k1") }
        for (header, message) in [(nil as String?, "missing API key"), ("k1", "not \"Bearer <key>\""), ("Bearer k2", "incorrect API key")] {
            do {
                try keys.authorize(header)
                Issue.record("\(header ?? "nil") passed")
            } catch {
                #expect(error.status == 401 && error.message.contains(message))
            }
        }
    }

    @Test("key files: one per line, comments and blank lines skipped; bad keys refused")
    func files() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UInt64.random(in: 0...UInt64.max))").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# keys\nalpha\n\n  beta  \n".write(toFile: path, atomically: true, encoding: .utf8)
        let keys = try APIKeys(file: path)
        #expect(keys.count == 2 && keys.contains("beta".utf8))
        try "# nothing\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: RouterError.self) { try APIKeys(file: path) }
        #expect(throws: RouterError.self) { try APIKeys(["has space"]) }
        #expect(throws: RouterError.self) { try APIKeys(file: path + ".missing") }
    }
}
