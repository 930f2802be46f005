import CKernels

/// Preallocated buffers for `MatMul.multiply`, so a step allocates nothing: prepared activations for
/// the streaming kernels and one f32 weight panel per thread for the sgemm path.
///
/// One multiply at a time may use a scratch (give each engine thread its own).
public final class MatMulScratch {
    public let maxTokens: Int
    public let maxColumns: Int
    /// Rows of widened weights per sgemm panel.
    public let panelRows: Int
    /// `[maxTokens, paddedColumns]` prepared activations (64-byte aligned rows).
    let activations: UnsafeMutablePointer<Float>
    private var panels: [UnsafeMutablePointer<Float>] = []

    /// - Parameters:
    ///   - maxTokens: the most tokens one multiply will be given.
    ///   - maxColumns: the widest weight matrix (input features) it will be given.
    ///   - threads: panels to preallocate, one per pool thread (more are added once if a larger pool
    ///     uses this scratch).
    public init(maxTokens: Int, maxColumns: Int, threads: Int = 1) {
        self.maxTokens = max(1, maxTokens)
        self.maxColumns = max(1, maxColumns)
        // ~4 MB of f32 per panel: big enough that OpenBLAS's per-call packing of the activations is
        // a few percent of the multiply, small enough to stay near L3.
        let rows = (4 << 20) / (self.maxColumns * 4)
        panelRows = max(16, rows - rows % 16)
        activations = Self.allocate(floats: self.maxTokens * Int(ck_activation_stride(self.maxColumns)))
        for _ in 0..<max(1, threads) { panels.append(Self.allocate(floats: panelRows * self.maxColumns)) }
    }

    deinit {
        activations.deallocate()
        for panel in panels { panel.deallocate() }
    }

    /// The panel of pool thread `thread`, `[panelRows, maxColumns]` floats.
    func panel(_ thread: Int) -> UnsafeMutablePointer<Float> { panels[thread] }

    /// Makes sure every thread of `pool` has a panel (allocates only the first time a bigger pool shows up).
    func reservePanels(threads: Int) {
        while panels.count < threads { panels.append(Self.allocate(floats: panelRows * maxColumns)) }
    }

    private static func allocate(floats: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, floats) * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(1, floats))
    }
}
