import TestRandom
import Testing
@testable import ModelFormat

@Suite("f16 / bf16 conversions")
struct FloatConversionTests {
    #if arch(x86_64) || arch(arm64)
    @Test("half → float is exact for all 65536 bit patterns (checked against Float16)")
    func halfToFloat() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = floatFromHalfBits(bits)
            #expect(actual.bitPattern == expected.bitPattern || (actual.isNaN && expected.isNaN), "0x\(String(bits, radix: 16))")
        }
    }

    @Test("float → half rounds to nearest even like Float16(_:)")
    func floatToHalf() {
        var generator = SplitMix64(seed: 42)
        var samples: [Float] = [0, -0, 1, 65504, 65520, 65519.99, 1e-8, 2.9802322e-8, 5.9604645e-8, 6.1035156e-5, .infinity, -.infinity]
        for _ in 0..<100_000 {
            samples.append(Float(bitPattern: UInt32(truncatingIfNeeded: generator.next())))
        }
        for value in samples where !value.isNaN {
            #expect(halfBitsFromFloat(value) == Float16(value).bitPattern, "\(value)")
        }
        #expect(floatFromHalfBits(halfBitsFromFloat(.nan)).isNaN)
    }
    #endif

    @Test("bf16 keeps the top 16 bits, rounding to nearest even")
    func bfloat16() {
        #expect(bfloat16BitsFromFloat(1) == 0x3F80)
        #expect(bfloat16BitsFromFloat(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie → even
        #expect(bfloat16BitsFromFloat(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie → even (up)
        #expect(bfloat16BitsFromFloat(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(floatFromBFloat16Bits(0xC040) == -3)
        #expect(floatFromBFloat16Bits(bfloat16BitsFromFloat(.nan)).isNaN)
    }

    @Test("Q8_0 quantization matches ggml's reference on a block")
    func q8Block() {
        let values = (0..<32).map { Float($0 - 16) / 4 }  // max |x| = 4
        let block = DType.quantizeQ8_0(values)
        #expect(block.count == 34)
        let d = floatFromHalfBits(UInt16(block[0]) | UInt16(block[1]) << 8)
        #expect(d == floatFromHalfBits(halfBitsFromFloat(Float(4) / 127)))
        #expect(Int8(bitPattern: block[2]) == -127)
        let buffer = OwnedBuffer(count: 34)
        block.withUnsafeBytes { buffer.bytes.copyMemory(from: $0) }
        let tensor = Tensor(name: "b", dtype: .q8_0, shape: [32], data: UnsafeRawBufferPointer(buffer.bytes), storage: buffer)
        for (a, e) in zip(tensor.floats(), values) { #expect(abs(a - e) <= d / 2 + 1e-6) }
    }
}
