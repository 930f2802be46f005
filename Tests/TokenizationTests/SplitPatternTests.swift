import Foundation
import Testing
@testable import Tokenization

/// The split scanners on their own: regex corner cases, and chunked scanning of long texts.
struct SplitPatternTests {
    static func pieces(_ pattern: SplitPattern, _ text: String, chunked: Bool = true) -> [String] {
        var text = text
        var result: [String] = []
        text.withUTF8 { bytes in
            let collect: (Range<Int>) -> Void = { result.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self)) }
            if chunked {
                pattern.split(bytes, 0..<bytes.count, dropMatches: false, collect)
            } else {
                pattern.splitChunk(bytes, 0..<bytes.count, dropMatches: false, collect)
            }
        }
        return result
    }

    @Test func gpt2Corners() {
        #expect(Self.pieces(.gpt2, "a   b") == ["a", "  ", " b"])
        #expect(Self.pieces(.gpt2, "x  \n") == ["x", "  \n"])
        #expect(Self.pieces(.gpt2, "I'm 12abc''s") == ["I", "'m", " 12", "abc", "''", "s"])
        #expect(Self.pieces(.gpt2, "don'T") == ["don", "'", "T"])
    }

    @Test func llama3Corners() {
        #expect(Self.pieces(.llama3, "don'T 12345") == ["don", "'T", " ", "123", "45"])
        #expect(Self.pieces(.llama3, "\tfoo\nbar") == ["\tfoo", "\n", "bar"])
        #expect(Self.pieces(.llama3, "  \n  x") == ["  \n", " ", " x"])
        #expect(Self.pieces(.llama3, "a);\n\nb") == ["a", ");\n\n", "b"])
        #expect(Self.pieces(.qwen2, "x=12") == ["x", "=", "1", "2"])
    }

    @Test(arguments: [SplitPattern.gpt2, .llama3, .qwen2])
    func chunkedScanEqualsWholeScan(pattern: SplitPattern) throws {
        let corpus = try HFReferenceTests.text(HFReference.corpusText)
        let stress = try HFReferenceTests.text(HFReference.stressText)
        let text = String(repeating: corpus + stress + "\n", count: 12)
        #expect(text.utf8.count > 4 * SplitPattern.chunkBytes)
        var utf8 = text
        let firstChunkEnd = utf8.withUTF8 { SplitPattern.chunkEnd($0, from: 0, limit: $0.count) }
        #expect(firstChunkEnd < text.utf8.count, "the text must actually be cut into chunks")
        let chunked = Self.pieces(pattern, text)
        #expect(chunked == Self.pieces(pattern, text, chunked: false))
        #expect(chunked.joined() == text)
    }
}
