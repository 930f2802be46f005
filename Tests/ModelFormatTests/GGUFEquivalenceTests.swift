import Foundation
import Testing
@testable import ModelFormat

/// The GGUF fixtures hold the safetensors weights converted by llama.cpp's converter, so after renaming
/// and un-permuting they must equal the safetensors tensors: exactly for f32 (bf16 widens exactly), within
/// f16 rounding for f16, within q8_0's block error for q8_0.
@Suite("GGUF vs safetensors: same tensors after renaming and un-permuting")
struct GGUFEquivalenceTests {
    private func compare(gguf: String, folder: String, tolerance: (_ reference: [Float], _ index: Int) -> Float) throws {
        let reference = try ModelCheckpoint.load(path: folder)
        let converted = try ModelCheckpoint.load(path: gguf)
        #expect(converted.tensorNames == reference.tensorNames)
        for name in reference.tensorNames {
            let expected = try reference.tensor(name)
            let actual = try converted.tensor(name)
            #expect(actual.shape == expected.shape, "\(name)")
            let a = actual.floats(), e = expected.floats()
            guard a.count == e.count else { Issue.record("\(name): \(a.count) vs \(e.count) elements"); continue }
            var worst = (index: -1, excess: Float(0))
            for i in 0..<e.count {
                let excess = abs(a[i] - e[i]) - tolerance(e, i)
                if excess > worst.excess { worst = (i, excess) }
            }
            #expect(worst.index < 0, "\(name)[\(worst.index)]: gguf \(worst.index >= 0 ? a[worst.index] : 0) vs safetensors \(worst.index >= 0 ? e[worst.index] : 0)")
        }
    }

    @Test("f32 GGUF equals the bf16 safetensors exactly", arguments: [
        (Fixtures.m1F32, Fixtures.m1), (Fixtures.m2F32, Fixtures.m2), (Fixtures.pycodeF32, Fixtures.pycode),
    ])
    func f32Identical(gguf: String, folder: String) throws {
        try compare(gguf: gguf, folder: folder) { _, _ in 0 }
    }

    @Test("f16 GGUF equals the safetensors within f16 rounding")
    func f16WithinRounding() throws {
        // Half a unit in the last place of f16 (10 mantissa bits), or the subnormal step 2^-25.
        try compare(gguf: Fixtures.pycodeF16, folder: Fixtures.pycode) { e, i in
            max(abs(e[i]) * 0x1p-11, 0x1p-25)
        }
    }

    @Test("q8_0 GGUF dequantizes close to the safetensors", arguments: [
        (Fixtures.m1Q8, Fixtures.m1), (Fixtures.m2Q8, Fixtures.m2),
    ])
    func q8Close(gguf: String, folder: String) throws {
        // Per block of 32: scale d = max|x| / 127, error <= d/2 plus the f16 rounding of d (x 127).
        try compare(gguf: gguf, folder: folder) { e, i in
            let start = i / 32 * 32
            let amax = e[start..<min(start + 32, e.count)].map(abs).max() ?? 0
            return amax / 127 * 0.5 + amax * 0x1p-10 + 1e-7
        }
    }

    @Test("un-permuting is the inverse of llama.cpp's permute, for q8_0 rows too")
    func unpermuteInvertsPermute() throws {
        let heads = 2, headDim = 8, columns = 32
        let rows = heads * headDim
        // HF layout: element (r, c) = r * 100 + c; permute as convert_hf_to_gguf does.
        var permuted = [Float](repeating: 0, count: rows * columns)
        for h in 0..<heads { for j in 0..<2 { for i in 0..<(headDim / 2) {
            let hfRow = h * headDim + j * headDim / 2 + i, ggufRow = h * headDim + 2 * i + j
            for c in 0..<columns { permuted[ggufRow * columns + c] = Float(hfRow * 100 + c) }
        } } }
        let buffer = OwnedBuffer(count: permuted.count * 4)
        permuted.withUnsafeBytes { buffer.bytes.copyMemory(from: $0) }
        let tensor = Tensor(name: "q", dtype: .f32, shape: [rows, columns], data: UnsafeRawBufferPointer(buffer.bytes), storage: buffer)
        let restored = ModelCheckpoint.unpermuted(tensor, heads: heads).floats()
        #expect(restored == (0..<(rows * columns)).map { Float($0 / columns * 100 + $0 % columns) })
    }

    @Test("GGUF metadata values keep their types")
    func metadataTypes() throws {
        let checkpoint = try ModelCheckpoint.load(path: Fixtures.m2F32)
        let metadata = checkpoint.ggufMetadata
        #expect(metadata["general.architecture"] == .string("qwen2"))
        #expect(metadata["qwen2.block_count"] == .uint32(2))
        #expect(metadata["tokenizer.ggml.add_bos_token"] == .bool(true))
        #expect(metadata["tokenizer.ggml.token_type"]?.intArray?.count == 1664)
        #expect(metadata["tokenizer.ggml.merges"]?.stringArray?.count == 1276)
        #expect(metadata["tokenizer.chat_template"]?.string?.hasPrefix("{{- bos_token }}") == true)
    }
}
