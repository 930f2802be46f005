import CKernels

/// The vector instruction sets the kernels are written for.
public enum KernelISA: Int, Sendable, Comparable, CaseIterable {
    case scalar = 0, avx2 = 1, avx512 = 2

    /// The best level this CPU supports (checked once, at first use).
    public static let detected = KernelISA(rawValue: Int(ck_detect_isa())) ?? .scalar

    /// This level, or the best supported one below it, so asking for AVX-512 on an AVX2 CPU is safe.
    public var supported: KernelISA { min(self, .detected) }

    var code: Int32 { Int32(rawValue) }

    public static func < (a: KernelISA, b: KernelISA) -> Bool { a.rawValue < b.rawValue }
}
