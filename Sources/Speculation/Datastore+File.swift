#if canImport(Darwin)
import Darwin
#else
import Glibc
#endif

/// The fixed 64-byte header of a datastore file (layout in `Datastore`'s documentation).
struct Header: Equatable {
    var tokenWidth: Int
    var positionWidth: Int
    var vocabularySize: Int
    var separator: Int32?
    var tokenCount: Int
    var documentCount: Int
    var suffixArrayOffset: Int
    var fileSize: Int

    /// The header of a datastore of `tokenCount` tokens; widths default to the narrowest that fit.
    init(vocabularySize: Int, separator: Int32?, tokenCount: Int, documentCount: Int,
         tokenWidth: Int? = nil, positionWidth: Int? = nil) {
        self.vocabularySize = vocabularySize
        self.separator = separator
        self.tokenCount = tokenCount
        self.documentCount = documentCount
        self.tokenWidth = tokenWidth ?? (vocabularySize <= 1 << 16 ? 2 : 4)
        self.positionWidth = positionWidth ?? (tokenCount <= Int(Int32.max) ? 4 : 8)
        suffixArrayOffset = (Datastore.headerSize + tokenCount * self.tokenWidth + 7) & ~7
        fileSize = suffixArrayOffset + tokenCount * self.positionWidth
    }

    func write(to p: UnsafeMutableRawPointer) {
        for (i, b) in Datastore.magic.enumerated() { p.storeBytes(of: b, toByteOffset: i, as: UInt8.self) }
        p.storeBytes(of: Datastore.version.littleEndian, toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: UInt32(tokenWidth).littleEndian, toByteOffset: 12, as: UInt32.self)
        p.storeBytes(of: UInt32(positionWidth).littleEndian, toByteOffset: 16, as: UInt32.self)
        p.storeBytes(of: UInt32(vocabularySize).littleEndian, toByteOffset: 20, as: UInt32.self)
        p.storeBytes(of: (separator ?? -1).littleEndian, toByteOffset: 24, as: Int32.self)
        p.storeBytes(of: UInt32(0), toByteOffset: 28, as: UInt32.self)
        p.storeBytes(of: UInt64(tokenCount).littleEndian, toByteOffset: 32, as: UInt64.self)
        p.storeBytes(of: UInt64(documentCount).littleEndian, toByteOffset: 40, as: UInt64.self)
        p.storeBytes(of: UInt64(suffixArrayOffset).littleEndian, toByteOffset: 48, as: UInt64.self)
        p.storeBytes(of: UInt64(fileSize).littleEndian, toByteOffset: 56, as: UInt64.self)
    }

    /// Parses and checks a header against the actual file size; `path` is for messages only.
    init(reading bytes: UnsafeRawBufferPointer, path: String) throws {
        func fail(_ what: String) -> DatastoreError { DatastoreError("datastore \(path): \(what)") }
        guard bytes.count >= Datastore.headerSize else {
            throw fail("file is \(bytes.count) bytes, shorter than the \(Datastore.headerSize)-byte header")
        }
        guard Array(bytes[0..<8]) == Datastore.magic else {
            throw fail("bad magic \(Array(bytes[0..<8])), expected \"SSSDDS01\" (not a datastore file)")
        }
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        func u64(_ o: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        guard u32(8) == Datastore.version else { throw fail("format version \(u32(8)), expected \(Datastore.version)") }
        let tw = Int(u32(12)), pw = Int(u32(16)), vocab = Int(u32(20))
        let sep = Int32(bitPattern: u32(24))
        guard tw == 2 || tw == 4 else { throw fail("token width \(tw), expected 2 or 4") }
        guard pw == 4 || pw == 8 else { throw fail("position width \(pw), expected 4 or 8") }
        guard vocab >= 1, vocab <= Datastore.maxVocabularySize, tw == 4 || vocab <= 1 << 16 else {
            throw fail("vocabulary size \(vocab) does not fit \(tw)-byte tokens (at most \(Datastore.maxVocabularySize))")
        }
        guard sep == -1 || (sep >= 0 && Int(sep) < vocab) else {
            throw fail("separator token \(sep) outside the vocabulary of \(vocab)")
        }
        // Sizes are checked against the real file size before any multiplication can overflow.
        let n64 = u64(32), docs = u64(40), saOffset = u64(48), size = u64(56)
        guard size == UInt64(bytes.count) else { throw fail("header says \(size) bytes, file has \(bytes.count)") }
        guard n64 <= size / UInt64(tw) else { throw fail("token count \(n64) does not fit in \(size) bytes") }
        let n = Int(n64)
        guard pw == 8 || n <= Int(Int32.max) else { throw fail("\(n) tokens need 8-byte positions, file has 4") }
        guard docs <= n64 else { throw fail("document count \(docs) exceeds token count \(n)") }
        self.init(vocabularySize: vocab, separator: sep == -1 ? nil : sep, tokenCount: n,
                  documentCount: Int(docs), tokenWidth: tw, positionWidth: pw)
        guard Int(saOffset) == suffixArrayOffset else {
            throw fail("suffix array offset \(saOffset), expected \(suffixArrayOffset) for \(n) tokens")
        }
        guard Int(size) == fileSize else {
            throw fail("file size \(size), expected \(fileSize) for \(n) tokens (truncated or padded)")
        }
    }
}

extension Datastore {
    /// Writes the datastore to `path` (replacing it) in the format described on `Datastore`.
    public func write(to path: String) throws {
        let tmp = path + ".partial"
        guard let f = fopen(tmp, "wb") else {
            throw DatastoreError("datastore \(path): cannot create \(tmp): \(String(cString: strerror(errno)))")
        }
        let written = fwrite(image.baseAddress, 1, image.count, f)
        let closed = fclose(f)
        guard written == image.count, closed == 0 else {
            unlink(tmp)
            throw DatastoreError("datastore \(path): wrote \(written) of \(image.count) bytes")
        }
        guard rename(tmp, path) == 0 else {
            throw DatastoreError("datastore \(path): cannot rename \(tmp): \(String(cString: strerror(errno)))")
        }
    }

    /// Maps the datastore at `path` read-only and checks it: header fields, sizes against the file
    /// length, every token below the vocabulary size and every suffix-array entry inside the tokens
    /// (so queries on a damaged file stay in bounds). Throws `DatastoreError` on any mismatch.
    public static func open(path: String) throws -> Datastore {
        let fd = Glibc_open(path)
        guard fd >= 0 else { throw DatastoreError("datastore \(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DatastoreError("datastore \(path): cannot stat") }
        let size = Int(st.st_size)
        guard size >= headerSize else {
            throw DatastoreError("datastore \(path): file is \(size) bytes, shorter than the \(headerSize)-byte header")
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw DatastoreError("datastore \(path): mmap failed: \(String(cString: strerror(errno)))")
        }
        let image = UnsafeRawBufferPointer(start: p, count: size)
        let header: Header
        do { header = try Header(reading: image, path: path) } catch {
            munmap(p, size)
            throw error
        }
        let store = Datastore(image: image, mapped: true, header: header)
        try store.withView { try $0.validate(vocabularySize: header.vocabularySize, path: path) }
        store.indexBuckets()
        return store
    }
}

extension Datastore {
    /// Opens the datastore at `path` for a model with `vocabularySize` tokens; a file built with
    /// another tokenizer's vocabulary is refused.
    public static func open(path: String, vocabularySize: Int) throws -> Datastore {
        let store = try open(path: path)
        guard store.vocabularySize == vocabularySize else {
            throw DatastoreError("datastore \(path): built for a vocabulary of \(store.vocabularySize) tokens, "
                + "the model has \(vocabularySize)")
        }
        return store
    }
}

/// `open(2)` read-only; named apart from `Datastore.open(path:)`.
private func Glibc_open(_ path: String) -> Int32 {
    #if canImport(Darwin)
    return Darwin.open(path, O_RDONLY)
    #else
    return Glibc.open(path, O_RDONLY)
    #endif
}
