#if canImport(Glibc)
import Glibc
#endif

/// Memory for the KV cache, backed by 2 MiB pages where the kernel can give them.
///
/// Why: cache blocks are visited in any order, and attention prefetches them a few blocks ahead. On
/// 4 KiB pages every block is on a page of its own, each prefetch needs a TLB entry it does not have
/// (a two-level walk under a hypervisor), and the prefetches arrive late. A 16-sequence decode step at
/// 250 tokens of context (1B shape): 159-165 ms with neither, 146-177 with huge pages alone, 147-169
/// with prefetching alone, 133-135 with both. Transparent huge pages are often `defrag=madvise`:
/// without the advice an allocation gets huge pages only if some happen to be free.
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
