#if canImport(Darwin)
import Darwin
#else
import Glibc
#endif

/// The SSSD datastore: a token corpus and its suffix array, in one file that is memory-mapped when served.
///
/// File format (all integers little-endian; the in-memory image of a freshly built datastore is the
/// same bytes, so `write(to:)` is one write and `open(path:)` one `mmap`):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 8 | magic `SSSDDS01` |
/// | 8 | 4 | format version (UInt32, 1) |
/// | 12 | 4 | token width in bytes: 2 (UInt16, vocabulary <= 65536) or 4 (UInt32) |
/// | 16 | 4 | position width in bytes: 4 (Int32, < 2^31 tokens) or 8 (Int64) |
/// | 20 | 4 | vocabulary size (UInt32); every token is below it |
/// | 24 | 4 | separator token id (Int32; -1 = none): starts every document, ends every continuation |
/// | 28 | 4 | reserved, 0 |
/// | 32 | 8 | token count n (UInt64) |
/// | 40 | 8 | document count (UInt64) |
/// | 48 | 8 | suffix array offset = 64 + n * token width, rounded up to a multiple of 8 |
/// | 56 | 8 | file size = suffix array offset + n * position width |
/// | 64 | n * token width | the tokens |
/// | suffix array offset | n * position width | the suffix array: start positions of the suffixes in lexicographic order |
public final class Datastore: @unchecked Sendable {
    static let magic: [UInt8] = Array("SSSDDS01".utf8)
    static let version: UInt32 = 1
    static let headerSize = 64
    /// Largest vocabulary accepted (the per-token tables are sized by it; real ones are < 2^20).
    public static let maxVocabularySize = 1 << 24

    /// Size of the vocabulary the tokens come from; a model with another vocabulary must not use this file.
    public let vocabularySize: Int
    /// The token that starts every document (the model's BOS), or nil.
    public let separator: Int32?
    /// Number of tokens, separators included.
    public let tokenCount: Int
    /// Number of documents.
    public let documentCount: Int
    /// Bytes per stored token (2 or 4).
    public let tokenWidth: Int
    /// Bytes per suffix-array entry (4 or 8).
    public let positionWidth: Int

    /// The whole image (header, tokens, suffix array), owned or mapped; immutable once built.
    let image: UnsafeRawBufferPointer
    private let isMapped: Bool
    let suffixArrayOffset: Int
    /// Suffix-array ranks where each first token's bucket starts (vocabularySize + 1 entries).
    let buckets: UnsafeMutableBufferPointer<Int>

    /// Takes ownership of `image` (allocated, or mapped when `mapped`), whose header is already valid.
    init(image: UnsafeRawBufferPointer, mapped: Bool, header: Header) {
        self.image = image
        self.isMapped = mapped
        vocabularySize = header.vocabularySize
        separator = header.separator
        tokenCount = header.tokenCount
        documentCount = header.documentCount
        tokenWidth = header.tokenWidth
        positionWidth = header.positionWidth
        suffixArrayOffset = header.suffixArrayOffset
        buckets = .allocate(capacity: header.vocabularySize + 1)
        buckets.initialize(repeating: 0)
    }

    /// Computes the first-token buckets; call once the tokens are in place (and validated).
    func indexBuckets() {
        withView { $0.bucketStarts(vocabularySize: vocabularySize, into: buckets) }
    }

    deinit {
        buckets.deallocate()
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: image.baseAddress), image.count)
        } else {
            image.deallocate()
        }
    }

    /// The token at `position` (0 ..< tokenCount).
    public func token(at position: Int) -> Int32 {
        precondition(position >= 0 && position < tokenCount, "token position out of range")
        return withView { $0.token(at: position) }
    }

    /// The start position of the suffix ranked `rank` (0 ..< tokenCount) in the suffix array.
    public func suffixPosition(at rank: Int) -> Int {
        precondition(rank >= 0 && rank < tokenCount, "suffix rank out of range")
        return withView { $0.position(at: rank) }
    }

    /// Runs `body` on a typed view; the four width combinations each get a specialised copy.
    func withView<R>(_ body: (any DatastoreViewProtocol) throws -> R) rethrows -> R {
        switch (tokenWidth, positionWidth) {
        case (2, 4): return try body(view(UInt16.self, Int32.self))
        case (2, _): return try body(view(UInt16.self, Int64.self))
        case (_, 4): return try body(view(UInt32.self, Int32.self))
        default: return try body(view(UInt32.self, Int64.self))
        }
    }

    func view<T, P>(_: T.Type, _: P.Type) -> DatastoreView<T, P> {
        let base = image.baseAddress!
        let tokens = UnsafeBufferPointer(
            start: (base + Self.headerSize).assumingMemoryBound(to: T.self), count: tokenCount)
        let sa = UnsafeBufferPointer(
            start: (base + suffixArrayOffset).assumingMemoryBound(to: P.self), count: tokenCount)
        return DatastoreView(tokens: tokens, sa: sa, separator: separator ?? -1,
                             buckets: UnsafeBufferPointer(buckets))
    }
}

/// A datastore file or build that cannot be used; the message names the file and what was wrong.
public struct DatastoreError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
