#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only (PROT_READ, MAP_PRIVATE), unmapped when the last reference goes.
///
/// `@unchecked Sendable`: the mapping is never written and lives until `deinit`, so sharing the
/// pointer between threads is safe.
final class MappedFile: @unchecked Sendable {
    let path: String
    let bytes: UnsafeRawBufferPointer

    /// Maps `path`. - Throws: `missingFile` when it cannot be opened, `truncated` when it is empty.
    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ModelFormatError(.missingFile, file: path, "cannot open file (\(Self.errnoText()))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ModelFormatError(.io, file: path, "cannot stat file (\(Self.errnoText()))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ModelFormatError(.missingFile, file: path, "is not a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            throw ModelFormatError(.truncated, file: path, "file is empty (0 bytes)")
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw ModelFormatError(.io, file: path, "cannot mmap \(size) bytes (\(Self.errnoText()))")
        }
        bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: size)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// Memory the loader had to produce itself (un-permuted GGUF Q/K rows); freed with the last reference.
///
/// `@unchecked Sendable`: filled once during loading, read-only afterwards.
final class OwnedBuffer: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer

    init(count: Int) {
        bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 64)
    }

    deinit { bytes.deallocate() }
}
