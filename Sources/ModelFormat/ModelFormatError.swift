/// The one error type of `ModelFormat`: a code to match on and a one-line message naming the file,
/// the key or tensor, what was found and what was expected.
///
/// `description` is `"<file>: <message>"`, e.g.
/// `"m1/model.safetensors: tensor 'model.layers.0.self_attn.k_proj.weight' has shape [64, 64]; expected [32, 64] (num_key_value_heads=2 x head_dim=16, hidden_size=64)"`.
public struct ModelFormatError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; compare with the static members (`error.code == .wrongShape`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A file the checkpoint needs does not exist or cannot be opened.
        public static let missingFile = Code("missingFile")
        /// The file ends before a header field or a tensor's data.
        public static let truncated = Code("truncated")
        /// The file does not start with the format's magic bytes.
        public static let badMagic = Code("badMagic")
        /// A header is malformed: bad JSON, impossible lengths, offsets out of order, oversized strings.
        public static let badHeader = Code("badHeader")
        /// The GGUF version is not 2 or 3.
        public static let unsupportedVersion = Code("unsupportedVersion")
        /// `model_type` / `general.architecture` names a model family this engine does not run.
        public static let unknownArchitecture = Code("unknownArchitecture")
        /// A tensor is stored in a type this engine cannot read.
        public static let unsupportedDType = Code("unsupportedDType")
        /// A config option this engine does not implement (e.g. `mlp_bias`, a yarn RoPE).
        public static let unsupportedFeature = Code("unsupportedFeature")
        /// A tensor's shape differs from what the configuration implies.
        public static let wrongShape = Code("wrongShape")
        /// A tensor the architecture needs is absent.
        public static let missingTensor = Code("missingTensor")
        /// Configuration values contradict each other or are out of range.
        public static let inconsistentConfig = Code("inconsistentConfig")
        /// A configuration or metadata key the format requires is absent.
        public static let missingKey = Code("missingKey")
        /// A configuration or metadata value has the wrong JSON/GGUF type.
        public static let invalidValue = Code("invalidValue")
        /// Reading or writing failed at the operating-system level.
        public static let io = Code("io")
    }

    public let code: Code
    /// The file the error is about (as given by the caller, not resolved).
    public let file: String
    /// One line: what failed, the value found, what was expected.
    public let message: String

    public init(_ code: Code, file: String, _ message: String) {
        self.code = code
        self.file = file
        // Names and values come from the file itself; escape control characters so the message stays one line.
        self.message = Self.escapingControlCharacters(message)
    }

    static func escapingControlCharacters(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    public var description: String { "\(Self.escapingControlCharacters(file)): \(message)" }
}

/// Renders a shape the way messages print it: `[4096, 1024]`.
func describe(shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
