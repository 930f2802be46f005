import CKernels
import COpenBLAS
import Synchronization

/// Token counts from which `MatMul.multiply` switches from the weight-streaming kernels to sgemm,
/// per stored weight type.
public struct MatMulCrossover: Sendable, Equatable {
    public var f32: Int
    public var f16: Int
    public var bf16: Int
    public var q8_0: Int

    public init(f32: Int, f16: Int, bf16: Int, q8_0: Int) {
        self.f32 = f32
        self.f16 = f16
        self.bf16 = bf16
        self.q8_0 = q8_0
    }

    /// Measured on the 2-core Zen 4 development machine (see `KernelBenchmarks`).
    public static let measuredDefault = MatMulCrossover(f32: 512, f16: .max, bf16: .max, q8_0: 256)

    public subscript(type: WeightType) -> Int {
        get {
            switch type {
            case .f32: f32
            case .f16: f16
            case .bf16: bf16
            case .q8_0: q8_0
            }
        }
        set {
            switch type {
            case .f32: f32 = newValue
            case .f16: f16 = newValue
            case .bf16: bf16 = newValue
            case .q8_0: q8_0 = newValue
            }
        }
    }
}

/// The precision of the activations a multiply meets.
public enum ActivationPrecision: String, Sendable, CaseIterable {
    /// f32 arithmetic on weights widened exactly to f32 (the reference numerics).
    case f32
    /// bf16 weights on a CPU with AVX512-BF16: activations rounded to bf16 and multiplied with
    /// `vdpbf16ps` (products exact, sums in f32), twice the multiply-adds per instruction, as llama.cpp
    /// and oneDNN compute bf16 models. Other weight types and CPUs use `f32`.
    case bf16

    /// Whether this CPU runs the bf16 path at all.
    public static let bf16Available = ck_has_bf16_dot() != 0
}

/// Matrix products of activations with stored weight matrices.
public enum MatMul {
    /// Changes whenever the kernels' speed does: measured step-cost curves cached on disk are keyed
    /// on it, so a new build never plans with an old build's costs.
    /// 3: all token groups of a row tile run back to back (weights stream under the arithmetic), and
    /// bf16 dot products use 4-row tiles of up to 6 tokens. 4: attention prefetches cache blocks.
    /// 5: AVX2 tiles of 3 rows (f32, bf16) and full blocks without a per-block tail test.
    /// 6: AVX2 steps of 5-6 tokens in one pass of 2-row tiles (f32, bf16), not 4 tokens then 1-2.
    public static let kernelRevision = 6
    private static let crossoverState = Mutex(MatMulCrossover.measuredDefault)
    /// Panel-per-thread sgemm needs OpenBLAS single-threaded in each of our threads.
    private static let blasConfigured: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// The token counts at which `multiply` switches to sgemm (process-wide). Starts at
    /// `MatMulCrossover.measuredDefault`; `calibrate` measures it for the running machine.
    public static var crossover: MatMulCrossover {
        get { crossoverState.withLock { $0 } }
        set { crossoverState.withLock { $0 = newValue } }
    }

    public enum Path: Sendable {
        /// Choose by `crossover`.
        case automatic
        /// Our kernels: each weight row read once and multiplied against all tokens.
        case streaming
        /// OpenBLAS sgemm, non-f32 weights widened panel by panel.
        case sgemm
    }

    /// `y[n, rows] = x[n, columns] · Wᵀ`, or `y += x · Wᵀ` with `accumulate`.
    ///
    /// Below the crossover each weight is read once in its stored type and widened to f32 in
    /// registers (results equal f32 arithmetic on the widened weights, up to summation order);
    /// from the crossover on, sgemm on f32 panels widened into `scratch`. Work is split by rows over
    /// `pool`. Allocates nothing.
    /// - Parameters:
    ///   - x: `[n, w.columns]` activations, row-major and contiguous.
    ///   - n: tokens, `1...scratch.maxTokens`.
    ///   - y: `[n, w.rows]` output, row-major and contiguous.
    ///   - isa: the instruction set to use (capped at what the CPU supports); for tests and benchmarks.
    public static func multiply(_ w: WeightMatrix, x: UnsafePointer<Float>, tokens n: Int,
                                into y: UnsafeMutablePointer<Float>, pool: ComputePool, scratch: MatMulScratch,
                                accumulate: Bool = false, path: Path = .automatic, isa: KernelISA = .detected,
                                precision: ActivationPrecision = .f32) {
        guard n > 0, w.rows > 0 else { return }
        guard w.columns > 0 else {  // an empty sum
            if !accumulate { y.update(repeating: 0, count: n * w.rows) }
            return
        }
        precondition(n <= scratch.maxTokens && w.columns <= scratch.maxColumns,
                     "MatMul: \(n) tokens x \(w.columns) columns exceed scratch \(scratch.maxTokens) x \(scratch.maxColumns)")
        let useSgemm = switch path {
        case .automatic: n >= crossover[w.type]
        case .streaming: false
        case .sgemm: true
        }
        let bf16Activations = precision == .bf16 && w.type == .bf16 && isa.supported == .avx512
            && ActivationPrecision.bf16Available
        if useSgemm && !bf16Activations {
            sgemm(w, x: x, tokens: n, into: y, pool: pool, scratch: scratch, accumulate: accumulate, isa: isa.supported)
        } else {
            stream(w, x: x, tokens: n, into: y, pool: pool, scratch: scratch, accumulate: accumulate, isa: isa.supported,
                   bf16Activations: bf16Activations)
        }
    }

    /// Our kernels: activations prepared once into the scratch, then rows split over the pool.
    /// - Parameter bf16Activations: the `ActivationPrecision.bf16` path (bf16 weights x bf16-rounded
    ///   activations); otherwise f32 activations against weights widened in registers.
    private static func stream(_ w: WeightMatrix, x: UnsafePointer<Float>, tokens n: Int,
                               into y: UnsafeMutablePointer<Float>, pool: ComputePool, scratch: MatMulScratch,
                               accumulate: Bool, isa: KernelISA, bf16Activations: Bool) {
        let columns = w.columns, rows = w.rows, data = w.data, type = w.type.code, acc: Int32 = accumulate ? 1 : 0
        // Kernels read whole blocks of 32 activations (f32 for bf16 weights: split into even/odd halves),
        // from rows padded so that consecutive tokens do not collide in L1. bf16 activations take
        // [n, stride] halves of the f32 scratch, which holds twice that.
        let stride = Int(bf16Activations ? ck_bf16_activation_stride(columns) : ck_activation_stride(columns))
        let xp = UnsafePointer(scratch.activations)
        let xh = UnsafeMutableRawPointer(scratch.activations).assumingMemoryBound(to: UInt16.self)
        let perChunk = max(1, 16384 / columns)
        pool.parallelFor((n + perChunk - 1) / perChunk) { chunk in
            let t0 = chunk * perChunk, t1 = min(n, t0 + perChunk)
            if bf16Activations {
                ck_prepare_activations_bf16(x + t0 * columns, columns, t1 - t0, columns, xh + t0 * stride)
            } else {
                ck_prepare_activations(isa.code, type, x + t0 * columns, columns, t1 - t0, columns,
                                       scratch.activations + t0 * stride)
            }
        }
        let schedule = RowSchedule(rows: rows, threads: pool.threadCount,
                                   minimumRows: max(16, 65536 / max(1, columns * n)))
        pool.parallelFor(schedule.count) { c in
            let range = schedule.bounds(c)
            if range.isEmpty { return }
            if bf16Activations {
                ck_matmul_rows_bf16dot(data.assumingMemoryBound(to: UInt16.self), columns, range.lowerBound,
                                       range.upperBound, xh, n, y, rows, acc)
            } else {
                ck_matmul_rows(isa.code, type, data, columns, range.lowerBound, range.upperBound, xp, n, y, rows, acc)
            }
        }
    }

    private static func sgemm(_ w: WeightMatrix, x: UnsafePointer<Float>, tokens n: Int,
                              into y: UnsafeMutablePointer<Float>, pool: ComputePool, scratch: MatMulScratch,
                              accumulate: Bool, isa: KernelISA) {
        _ = blasConfigured
        scratch.reservePanels(threads: pool.threadCount)
        let rows = w.rows, columns = w.columns, beta: Float = accumulate ? 1 : 0
        // Panels: contiguous row ranges, about equal per thread, at most scratch.panelRows each.
        let perThread = (rows + pool.threadCount - 1) / pool.threadCount
        let panelRows = min(scratch.panelRows, max(16, (perThread + 15) / 16 * 16))
        let count = (rows + panelRows - 1) / panelRows
        pool.parallelFor(count) { p, thread in
            let r0 = p * panelRows, r1 = min(rows, r0 + panelRows)
            let b: UnsafePointer<Float>
            if w.type == .f32 {
                b = w.data.assumingMemoryBound(to: Float.self) + r0 * columns
            } else {
                let panel = scratch.panel(thread)
                ck_widen_rows(isa.code, w.type.code, w.data, columns, r0, r1, panel, columns)
                b = UnsafePointer(panel)
            }
            // y[:, r0..<r1] = x[n, columns] · B[r1-r0, columns]ᵀ
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(r1 - r0), Int32(columns),
                        1, x, Int32(columns), b, Int32(columns), beta, y + r0, Int32(rows))
        }
    }
}
