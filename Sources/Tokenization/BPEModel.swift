import Synchronization

/// HF `model` of type BPE: vocabulary, ranked merges, unknown-token and byte-fallback rules, and a
/// shared bounded cache of encoded words.
final class BPEModel: Sendable {
    /// token string → id
    let vocab: [String: Int]
    /// id → token string (nil for ids the model vocabulary does not hold)
    let tokens: [String?]
    private let merger: BPEMerger
    /// The pre-tokenizer hands over raw bytes that stand for GPT-2 alphabet characters.
    private let byteLevel: Bool
    /// byte-level: byte → id of its alphabet character; otherwise ASCII scalar → id (-1: not in vocab)
    private let smallUnitIDs: [Int32]
    /// Single-scalar tokens by scalar value. Lookups of input text never go through `String` keys,
    /// whose equality is canonical equivalence (U+212A KELVIN SIGN would find "K").
    private let scalarIDs: [UInt32: Int32]
    /// Whole tokens by exact UTF-8 bytes, for `ignore_merges`.
    private let wordIDs: [[UInt8]: Int32]
    private let byteFallbackIDs: [Int32]?
    private let unknownID: Int32?
    private let fuseUnknown: Bool
    private let ignoreMerges: Bool
    private let cache = Mutex(WordCache())

    struct Options {
        var byteLevel = false
        var unknownToken: String?
        var fuseUnknown = false
        var byteFallback = false
        var ignoreMerges = false
    }

    /// `entries` are the vocabulary's (token, id) pairs — a list, not a `String`-keyed dictionary, so
    /// canonically equivalent tokens stay distinct; `merges` are (left, right) token strings in rank
    /// order; `file` names the source for errors.
    init(entries: [(token: String, id: Int)], merges: [(String, String)], options: Options, file: String) throws {
        let count = (entries.map(\.id).max() ?? -1) + 1
        var tokens = [String?](repeating: nil, count: count)
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(entries.count)
        for (token, id) in entries {
            guard id >= 0 else {
                throw TokenizationError(file: file, key: "model.vocab[\"\(token)\"]", found: "id \(id)",
                                        expected: "a non-negative id")
            }
            tokens[id] = token
            if vocab[token] == nil { vocab[token] = id }
        }
        self.vocab = vocab
        self.tokens = tokens
        let exactIDs = Dictionary(entries.map { (Array($0.token.utf8), $0.id) }, uniquingKeysWith: { first, _ in first })
        merger = BPEMerger(merges: try Self.mergeTable(merges, ids: exactIDs, file: file))
        byteLevel = options.byteLevel
        var scalarIDs: [UInt32: Int32] = [:]
        for (token, id) in entries {
            var scalars = token.unicodeScalars.makeIterator()
            if let first = scalars.next(), scalars.next() == nil, scalarIDs[first.value] == nil {
                scalarIDs[first.value] = Int32(id)
            }
        }
        self.scalarIDs = scalarIDs
        smallUnitIDs = (0..<(options.byteLevel ? 256 : 128)).map { unit in
            let scalar = options.byteLevel ? ByteLevelAlphabet.scalarForByte[unit].value : UInt32(unit)
            return scalarIDs[scalar] ?? -1
        }
        wordIDs = options.ignoreMerges ? exactIDs.mapValues { Int32($0) } : [:]
        if options.byteFallback {
            byteFallbackIDs = (0..<256).map { byte in
                vocab[Self.byteFallbackToken(UInt8(byte))].map { Int32($0) } ?? -1
            }
        } else {
            byteFallbackIDs = nil
        }
        if let unknownToken = options.unknownToken {
            guard let id = vocab[unknownToken] else {
                throw TokenizationError(file: file, key: "model.unk_token", found: "\"\(unknownToken)\"",
                                        expected: "a token of model.vocab")
            }
            unknownID = Int32(id)
        } else {
            unknownID = nil
        }
        fuseUnknown = options.fuseUnknown
        ignoreMerges = options.ignoreMerges
    }

    /// `<0xNN>` with upper-case hex digits, as SentencePiece and HF name byte tokens.
    static func byteFallbackToken(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x\(hex.count == 1 ? "0" + hex : hex)>"
    }

    /// `ids`: token UTF-8 bytes → id.
    private static func mergeTable(_ merges: [(String, String)], ids: [[UInt8]: Int],
                                   file: String) throws -> [UInt64: UInt64] {
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            let leftBytes = Array(left.utf8), rightBytes = Array(right.utf8)
            guard let a = ids[leftBytes], let b = ids[rightBytes], let merged = ids[leftBytes + rightBytes] else {
                throw TokenizationError(file: file, key: "model.merges[\(rank)]", found: "\"\(left) \(right)\"",
                                        expected: "a merge of two vocabulary tokens into a vocabulary token")
            }
            table[BPEMerger.pairKey(Int32(a), Int32(b))] = UInt64(rank) << 32 | UInt64(merged)
        }
        return table
    }

    /// Appends the ids of one pre-token (`range` of `bytes`) to `out`.
    func encodeWord(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int]) {
        guard !range.isEmpty else { return }
        if range.count == 1 && byteLevel {
            let id = smallUnitIDs[Int(bytes[range.lowerBound])]
            if id >= 0 { out.append(Int(id)); return }
        }
        let cacheable = range.count <= WordCache.maxWordLength
        let hash = cacheable ? WordCache.hash(bytes, range) : 0
        if cacheable && cache.withLock({ $0.lookup(bytes, range, hash: hash, into: &out) }) { return }
        let start = out.count
        encodeUncached(bytes, range, into: &out)
        if cacheable {
            cache.withLock { $0.insert(bytes, range, hash: hash, ids: out[start...]) }
        }
    }

    private func encodeUncached(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int]) {
        let units = unitScalars(bytes, range)
        if ignoreMerges, let id = wordIDs[Array(String(String.UnicodeScalarView(units)).utf8)] {
            out.append(Int(id))
            return
        }
        var symbols = initialSymbols(units)
        merger.merge(&symbols)
        for symbol in symbols { out.append(Int(symbol)) }
    }

    /// The characters BPE starts from: alphabet characters of the bytes (byte-level) or the scalars.
    private func unitScalars(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [Unicode.Scalar] {
        if byteLevel { return range.map { ByteLevelAlphabet.scalarForByte[Int(bytes[$0])] } }
        return Array(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self).unicodeScalars)
    }

    /// One symbol per character in vocab; otherwise its `<0xNN>` bytes (byte fallback) or the unknown
    /// token, fused across neighbours when asked — the order of HF's `merge_word`, quirks included.
    private func initialSymbols(_ units: [Unicode.Scalar]) -> [Int32] {
        var symbols: [Int32] = []
        symbols.reserveCapacity(units.count)
        var pendingUnknown = false
        for unit in units {
            if let id = unitID(unit) {
                if pendingUnknown, let unknownID { symbols.append(unknownID); pendingUnknown = false }
                symbols.append(id)
                continue
            }
            if let fallback = byteFallbackIDs {
                let ids = unit.utf8.map { fallback[Int($0)] }
                if ids.allSatisfy({ $0 >= 0 }) {
                    symbols.append(contentsOf: ids)
                    continue
                }
            }
            guard let unknownID else { continue }
            if pendingUnknown && !fuseUnknown { symbols.append(unknownID) }
            pendingUnknown = true
        }
        if pendingUnknown, let unknownID { symbols.append(unknownID) }
        return symbols
    }

    private func unitID(_ unit: Unicode.Scalar) -> Int32? {
        if unit.value < smallUnitIDs.count && !byteLevel {
            let id = smallUnitIDs[Int(unit.value)]
            return id >= 0 ? id : nil
        }
        return scalarIDs[unit.value]
    }
}
