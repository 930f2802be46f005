#if canImport(Glibc)
import Glibc
#endif

/// Large buffers the hot loops stream through (KV cache, weights copied out of their file), backed by
/// 2 MiB pages where the kernel can give them.
///
/// Why: with 4 KiB pages every cache block and every weight row sits on its own page, so each is a
/// TLB miss, and under a hypervisor a miss walks two page tables. Measured on the 1B shape, a decode
/// step of 16 sequences at 250 tokens of context read its keys and values at 5 GB/s on 4 KiB pages.
/// Transparent huge pages are often `defrag=madvise`: without the advice an allocation gets huge pages
/// only if some happen to be free, and on a long-running machine none are.
public enum HugePageMemory {
    static let hugePage = 2 << 20

    /// `bytes` of zero-filled memory aligned to 2 MiB, advised for huge pages. Untouched pages cost
    /// nothing until first written. Free with `deallocate(_:bytes:)`.
    public static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let length = roundedLength(bytes)
        #if os(Linux)
        // Over-map by one huge page, then trim, so the start is 2 MiB aligned.
        guard let raw = mmap(nil, length + hugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              raw != MAP_FAILED else {
            // As with any allocation that cannot be satisfied (mmap fails only without address space).
            fatalError("cannot map \(length) bytes: \(String(cString: strerror(errno)))")
        }
        let address = Int(bitPattern: raw)
        let aligned = (address + hugePage - 1) / hugePage * hugePage
        if aligned > address { munmap(raw, aligned - address) }
        let tail = hugePage - (aligned - address)
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + length), tail) }
        let start = UnsafeMutableRawPointer(bitPattern: aligned)!
        _ = madvise(start, length, MADV_HUGEPAGE)
        return start
        #else
        let memory = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: hugePage)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: length)
        return memory
        #endif
    }

    /// Frees memory from `allocate(bytes:)` (the same `bytes`).
    public static func deallocate(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        munmap(pointer, roundedLength(bytes))
        #else
        pointer.deallocate()
        #endif
    }

    private static func roundedLength(_ bytes: Int) -> Int {
        (max(bytes, 1) + hugePage - 1) / hugePage * hugePage
    }
}
