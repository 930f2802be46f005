import ArgumentParser
import Foundation
import Tokenization

/// `specula tokenize`: text → ids, exactly as Hugging Face `tokenizers` encodes.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode text to token ids.",
        discussion: "Special-token strings in the text are always recognised; --special adds the tokens the "
            + "tokenizer's post-processor adds (HF add_special_tokens=True). Accepts a folder with only tokenizer files.")

    @OptionGroup var modelOption: ModelOption
    @Option(help: "Text to encode.") var text: String?
    @Option(help: "Read the text to encode from this file instead.") var file: String?
    @Option(help: "Render these chat messages (a JSON array of {\"role\", \"content\"}) with the model's chat template, with the generation prompt, and encode the result as apply_chat_template does.")
    var chat: String?
    @Flag(help: "Add the special tokens the post-processor adds (BOS, ...).") var special = false
    @Flag(help: "Print {\"ids\": [...]} (with --chat also \"rendered\").") var json = false

    struct ChatOutput: Encodable {
        let ids: [Int]
        let rendered: String
    }

    func run() throws {
        let tokenizer = try Tokenizer.load(path: try modelOption.resolvedPath())
        if let chat {
            let rendered = try ChatRendering.render(messagesJSON: chat, tokenizer: tokenizer)
            let ids = tokenizer.encode(rendered, addSpecialTokens: false)
            if json {
                print(try JSONOutput.encode(ChatOutput(ids: ids, rendered: rendered)))
            } else {
                print(rendered)
                print(ids.map(String.init).joined(separator: ","))
            }
            return
        }
        let input = try readInput(text: text, file: file, name: "--text")
        let ids = tokenizer.encode(input, addSpecialTokens: special)
        if json {
            print(try JSONOutput.encode(["ids": ids]))
        } else {
            print(ids.map(String.init).joined(separator: ","))
        }
    }
}

/// Chat messages through the tokenizer's chat template.
enum ChatRendering {
    static func render(messagesJSON: String, tokenizer: Tokenizer) throws -> String {
        guard let messages = try? JSONDecoder().decode([ChatMessage].self, from: Data(messagesJSON.utf8)) else {
            throw CLIError("--chat: expected a JSON array of {\"role\": String, \"content\": String}")
        }
        guard let source = tokenizer.chatTemplate else {
            throw CLIError("this tokenizer has no chat template (tokenizer_config.json 'chat_template')")
        }
        return try ChatTemplate(source: source).render(
            messages: messages, addGenerationPrompt: true, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken)
    }
}

/// `specula detokenize`: ids → text.
struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decode token ids to text.")

    @OptionGroup var modelOption: ModelOption
    @Option(help: "Comma-separated token ids.") var ids: String
    @Flag(help: "Leave out special tokens.") var skipSpecial = false
    @Flag(help: "Print {\"text\": \"...\"}.") var json = false

    func run() throws {
        let tokenIDs = try parseTokenIDs(ids)
        let tokenizer = try Tokenizer.load(path: try modelOption.resolvedPath())
        if let bad = tokenIDs.first(where: { $0 >= tokenizer.vocabularySize }) {
            throw CLIError("--ids: token id \(bad) is out of range (vocabulary has \(tokenizer.vocabularySize) ids)")
        }
        let text = tokenizer.decode(tokenIDs, skipSpecialTokens: skipSpecial)
        if json {
            print(try JSONOutput.encode(["text": text]))
        } else {
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        }
    }
}

/// The text of `--text`, or of `--file` when given; exactly one of them.
func readInput(text: String?, file: String?, name: String) throws -> String {
    switch (text, file) {
    case let (text?, nil):
        return text
    case let (nil, path?):
        // FileHandle rather than FileManager.contents: pipes and process substitutions work too.
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data() else {
            throw CLIError("cannot read '\(path)': no such file or not readable")
        }
        guard let string = String(data: data, encoding: .utf8) else {
            throw CLIError("'\(path)' is not valid UTF-8")
        }
        return string
    case (nil, nil):
        throw CLIError("give \(name) TEXT or --file PATH")
    case (_?, _?):
        throw CLIError("give either \(name) or --file, not both")
    }
}
