extension Datastore {
    /// Builds a datastore in memory from tokenized documents: each document is prefixed with
    /// `separator` (the model's BOS; unless it already starts with it), the documents are concatenated
    /// and the suffix array is built by SA-IS (linear time). `progress` receives fractions in 0...1.
    /// Throws when a token is outside 0 ..< vocabularySize. Call `write(to:)` to save it.
    public static func build(
        documents: some Sequence<[Int32]>, vocabularySize: Int, separator: Int32?,
        progress: (Double) -> Void = { _ in }
    ) throws -> Datastore {
        guard vocabularySize >= 1, vocabularySize <= maxVocabularySize else {
            throw DatastoreError("datastore build: vocabulary size \(vocabularySize) out of range")
        }
        if let s = separator, s < 0 || Int(s) >= vocabularySize {
            throw DatastoreError("datastore build: separator \(s) outside the vocabulary of \(vocabularySize)")
        }
        var tokens: [Int32] = []
        var documentCount = 0
        for document in documents {
            if let s = separator, document.first != s { tokens.append(s) }
            for t in document where t < 0 || Int(t) >= vocabularySize {
                throw DatastoreError(
                    "datastore build: document \(documentCount) has token \(t), outside the vocabulary of \(vocabularySize)")
            }
            tokens.append(contentsOf: document)
            documentCount += 1
        }
        return try build(tokens: tokens, documentCount: documentCount, vocabularySize: vocabularySize,
                         separator: separator, progress: progress)
    }

    /// Builds a datastore over `tokens` as given (documents already concatenated with separators).
    /// `tokenWidth` / `positionWidth` force wider storage than needed (for tests of every layout).
    public static func build(
        tokens: [Int32], documentCount: Int, vocabularySize: Int, separator: Int32?,
        tokenWidth: Int? = nil, positionWidth: Int? = nil, progress: (Double) -> Void = { _ in }
    ) throws -> Datastore {
        guard vocabularySize >= 1, vocabularySize <= maxVocabularySize else {
            throw DatastoreError("datastore build: vocabulary size \(vocabularySize) out of range 1...\(maxVocabularySize)")
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw DatastoreError("datastore build: token \(bad) outside the vocabulary of \(vocabularySize)")
        }
        var header = Header(vocabularySize: vocabularySize, separator: separator, tokenCount: tokens.count,
                            documentCount: documentCount, tokenWidth: tokenWidth, positionWidth: positionWidth)
        guard header.tokenWidth == 4 || (header.tokenWidth == 2 && vocabularySize <= 1 << 16),
              header.positionWidth == 8 || (header.positionWidth == 4 && tokens.count <= Int(Int32.max)) else {
            throw DatastoreError("datastore build: widths \(header.tokenWidth)/\(header.positionWidth) cannot hold "
                + "\(tokens.count) tokens of a \(vocabularySize) vocabulary")
        }
        header.documentCount = documentCount
        let image = UnsafeMutableRawBufferPointer.allocate(byteCount: header.fileSize, alignment: 64)
        image.initializeMemory(as: UInt8.self, repeating: 0)
        header.write(to: image.baseAddress!)
        let store = Datastore(image: UnsafeRawBufferPointer(image), mapped: false, header: header)
        switch (header.tokenWidth, header.positionWidth) {
        case (2, 4): fill(image, header, tokens, UInt16.self, Int32.self, progress)
        case (2, _): fill(image, header, tokens, UInt16.self, Int64.self, progress)
        case (_, 4): fill(image, header, tokens, UInt32.self, Int32.self, progress)
        default: fill(image, header, tokens, UInt32.self, Int64.self, progress)
        }
        store.indexBuckets()
        return store
    }

    /// Stores the tokens at width T and their suffix array at width P into the image.
    private static func fill<T: FixedWidthInteger, P: FixedWidthInteger & SignedInteger>(
        _ image: UnsafeMutableRawBufferPointer, _ header: Header, _ tokens: [Int32],
        _: T.Type, _: P.Type, _ progress: (Double) -> Void
    ) {
        let base = image.baseAddress!
        let text = UnsafeMutableBufferPointer(
            start: (base + headerSize).bindMemory(to: T.self, capacity: tokens.count), count: tokens.count)
        // Stored in host order: the supported hosts (x86-64, arm64) are little-endian like the format.
        for (i, t) in tokens.enumerated() { text[i] = T(truncatingIfNeeded: t) }
        progress(0.05)
        let sa = UnsafeMutableBufferPointer(
            start: (base + header.suffixArrayOffset).bindMemory(to: P.self, capacity: tokens.count),
            count: tokens.count)
        SuffixArray.build(text: UnsafeBufferPointer(text), maxSymbol: max(header.vocabularySize - 1, 0), into: sa) {
            progress(0.05 + 0.95 * $0)
        }
    }
}
