import Foundation
@testable import ModelFormat

/// Builds small GGUF models with known weights: 1 layer, hidden 32, 2 heads of 16, 1 kv head, ffn 64, vocab 8.
enum TinyGGUF {
    static let hidden = 32, heads = 2, kvHeads = 1, headDim = 16, ffn = 64, vocab = 8

    static func metadata(arch: String = "llama", dropping: String? = nil) -> [(String, GGUFValue)] {
        let all: [(String, GGUFValue)] = [
            ("general.architecture", .string(arch)),
            ("\(arch).block_count", .uint32(1)),
            ("\(arch).context_length", .uint32(128)),
            ("\(arch).embedding_length", .uint32(UInt32(hidden))),
            ("\(arch).feed_forward_length", .uint32(UInt32(ffn))),
            ("\(arch).attention.head_count", .uint32(UInt32(heads))),
            ("\(arch).attention.head_count_kv", .uint32(UInt32(kvHeads))),
            ("\(arch).rope.freq_base", .float32(10000)),
            ("\(arch).attention.layer_norm_rms_epsilon", .float32(1e-5)),
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.tokens", .array((0..<vocab).map { .string("t\($0)") })),
            ("tokenizer.ggml.bos_token_id", .uint32(1)),
            ("tokenizer.ggml.eos_token_id", .uint32(2)),
            ("test.nested", .array([.array([.int16(-3), .int16(4)]), .array([])])),
            ("test.all", .array([.uint8(1)])), ("test.u64", .uint64(1 << 40)), ("test.i64", .int64(-5)),
            ("test.f64", .float64(0.25)), ("test.i8", .int8(-1)), ("test.u16", .uint16(7)), ("test.i32", .int32(-9)),
        ]
        return all.filter { $0.0 != dropping }
    }

    /// Deterministic values for tensor `name`: distinct per tensor, row and column.
    static func values(_ name: String, count: Int) -> [Float] {
        let seed = Float(name.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) % 97 })
        return (0..<count).map { Float(($0 * 37 + Int(seed)) % 101 - 50) / 64 }
    }

    /// llama.cpp name → HF shape for the tiny model.
    static func shapes(bias: Bool = false) -> [(String, [Int])] {
        var shapes: [(String, [Int])] = [
            ("token_embd.weight", [vocab, hidden]), ("blk.0.attn_norm.weight", [hidden]),
            ("blk.0.attn_q.weight", [heads * headDim, hidden]), ("blk.0.attn_k.weight", [kvHeads * headDim, hidden]),
            ("blk.0.attn_v.weight", [kvHeads * headDim, hidden]), ("blk.0.attn_output.weight", [hidden, heads * headDim]),
            ("blk.0.ffn_norm.weight", [hidden]), ("blk.0.ffn_gate.weight", [ffn, hidden]),
            ("blk.0.ffn_up.weight", [ffn, hidden]), ("blk.0.ffn_down.weight", [hidden, ffn]),
            ("output_norm.weight", [hidden]),
        ]
        if bias {
            shapes += [("blk.0.attn_q.bias", [heads * headDim]), ("blk.0.attn_k.bias", [kvHeads * headDim]), ("blk.0.attn_v.bias", [kvHeads * headDim])]
        }
        return shapes
    }

    /// The file bytes; 2-D weights in `matrixType` (f32 or q8_0), 1-D in f32.
    static func bytes(arch: String = "llama", matrixType: DType = .f32, dropping: String? = nil, alignment: Int = 32,
                      extraMetadata: [(String, GGUFValue)] = [], extraTensors: [GGUFWriter.TensorEntry] = []) throws -> [UInt8] {
        let tensors = shapes(bias: arch == "qwen2").filter { $0.0 != dropping }.map { name, shape in
            let floats = values(name, count: shape.reduce(1, *))
            let type = shape.count == 2 ? matrixType : .f32
            let bytes = type == .q8_0 ? DType.quantizeQ8_0(floats) : floats.withUnsafeBytes { [UInt8]($0) }
            return GGUFWriter.TensorEntry(name: name, dtype: type, shape: shape, bytes: bytes)
        }
        return try GGUFWriter.encode(metadata: metadata(arch: arch, dropping: dropping) + extraMetadata,
                                     tensors: tensors + extraTensors, alignment: alignment)
    }
}
