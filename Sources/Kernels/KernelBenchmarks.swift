import CKernels
import COpenBLAS

/// Measurements of the machine and of the matmul kernels, for `specula bench kernels` and for
/// choosing the sgemm crossover. Each call allocates its own buffers (not for the serving path).
public enum KernelBenchmarks {
    /// Bytes per second all pool threads together read from memory (a buffer far larger than L3,
    /// each thread streaming its own part; best of a few passes).
    public static func measureReadBandwidth(pool: ComputePool, bytes: Int = 512 << 20, passes: Int = 8) -> Double {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        defer { buffer.deallocate() }
        fillRandom(buffer, bytes: bytes, seed: 1)
        let threads = pool.threadCount
        let part = bytes / threads / 4096 * 4096
        var best = 0.0
        for _ in 0..<passes {
            let start = monotonicNanoseconds()
            pool.parallelFor(threads) { i in _ = ck_read_stream(KernelISA.detected.code, buffer + i * part, part) }
            let seconds = Double(monotonicNanoseconds() - start) * 1e-9
            best = max(best, Double(part * threads) / seconds)
        }
        return best
    }

    /// f32 floating-point operations per second (a multiply-add counts 2) all pool threads together
    /// reach in register-resident FMA chains.
    public static func measurePeakFLOPs(pool: ComputePool, iterations: Int = 20_000_000) -> Double {
        var best = 0.0
        let threads = pool.threadCount
        for _ in 0..<3 {
            let start = monotonicNanoseconds()
            let flops = UnsafeMutablePointer<Double>.allocate(capacity: threads)
            defer { flops.deallocate() }
            pool.parallelFor(threads) { i in flops[i] = ck_fma_loop(KernelISA.detected.code, iterations) }
            let seconds = Double(monotonicNanoseconds() - start) * 1e-9
            best = max(best, (0..<threads).reduce(0.0) { $0 + flops[$1] } / seconds)
        }
        return best
    }

    /// One row of a matmul measurement.
    public struct MatMulResult: Sendable {
        public var tokens: Int
        /// Seconds per multiply of one matrix.
        public var seconds: Double
        public var weightBytes: Int
        /// Weight bytes read per second.
        public var achievedBytesPerSecond: Double
        /// `max(weightBytes / bandwidth, 2 * rows * columns * tokens / peak)`.
        public var rooflineSeconds: Double
        /// `seconds / rooflineSeconds` (1 is perfect).
        public var ratioToRoofline: Double
        /// `seconds` / the 1-token `seconds` of the same measurement (when 1 was measured).
        public var ratioToOneToken: Double
        /// The same multiply through OpenBLAS sgemm (non-f32 widened into panels), if measured.
        public var sgemmSeconds: Double?
    }

    /// Times `MatMul.multiply` on `rows x columns` matrices of `type` holding random values, cycling
    /// through enough distinct matrices (`totalBytes` together) that the weights come from memory.
    public static func measureMatMul(type: WeightType, rows: Int, columns: Int, tokens: [Int], pool: ComputePool,
                                     bandwidth: Double, peakFLOPs: Double, totalBytes: Int = 256 << 20,
                                     includeSgemm: Bool = true, minimumSeconds: Double = 0.25,
                                     isa: KernelISA = .detected) -> [MatMulResult] {
        let matrixBytes = type.rowBytes(columns: columns) * rows
        let count = max(2, totalBytes / max(1, matrixBytes))
        let storage = UnsafeMutableRawPointer.allocate(byteCount: count * matrixBytes, alignment: 4096)
        defer { storage.deallocate() }
        fillWeights(storage, type: type, count: count * rows, columns: columns)
        let matrices = (0..<count).map {
            WeightMatrix(type: type, rows: rows, columns: columns, data: storage + $0 * matrixBytes)
        }
        let maxTokens = tokens.max() ?? 1
        let scratch = MatMulScratch(maxTokens: maxTokens, maxColumns: columns, threads: pool.threadCount)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: maxTokens * columns)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: maxTokens * rows)
        defer {
            x.deallocate()
            y.deallocate()
        }
        for i in 0..<(maxTokens * columns) { x[i] = Float(i % 17) * 0.01 - 0.08 }

        // Best pass over all matrices (at least 3 passes and `minimumSeconds`): other processes on a
        // shared machine only ever make a pass slower.
        func time(_ n: Int, _ path: MatMul.Path) -> Double {
            let start = monotonicNanoseconds()
            var best = Double.infinity, passes = 0
            repeat {
                let passStart = monotonicNanoseconds()
                for m in matrices {
                    MatMul.multiply(m, x: x, tokens: n, into: y, pool: pool, scratch: scratch, path: path, isa: isa)
                }
                best = min(best, Double(monotonicNanoseconds() - passStart) * 1e-9 / Double(matrices.count))
                passes += 1
            } while passes < 3 || Double(monotonicNanoseconds() - start) * 1e-9 < minimumSeconds
            return best
        }

        var results: [MatMulResult] = []
        for n in tokens {
            _ = time(n, .automatic)  // warm up: page in, spin up the pool
            let seconds = time(n, .streaming)
            let roofline = max(Double(matrixBytes) / bandwidth, 2 * Double(rows * columns * n) / peakFLOPs)
            let sgemm = includeSgemm ? time(n, .sgemm) : nil
            results.append(MatMulResult(tokens: n, seconds: seconds, weightBytes: matrixBytes,
                                        achievedBytesPerSecond: Double(matrixBytes) / seconds,
                                        rooflineSeconds: roofline, ratioToRoofline: seconds / roofline,
                                        ratioToOneToken: 0, sgemmSeconds: sgemm))
        }
        if let one = results.first(where: { $0.tokens == 1 })?.seconds {
            for i in results.indices { results[i].ratioToOneToken = results[i].seconds / one }
        }
        return results
    }

    /// Seconds per `cblas_sgemm` of `x[tokens, columns] · Wᵀ` with f32 `W[rows, columns]` (one call,
    /// OpenBLAS running its own `threads` threads; the pool stays idle), cycling through `totalBytes`
    /// of matrices: the reference throughput for prefill. Restores OpenBLAS to 1 thread afterwards
    /// (the setting `MatMul`'s per-thread panels need).
    public static func measureSgemm(rows: Int, columns: Int, tokens: Int, threads: Int,
                                    totalBytes: Int = 256 << 20, minimumSeconds: Double = 0.25) -> Double {
        let matrixBytes = rows * columns * 4
        let count = max(2, totalBytes / matrixBytes)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: count * matrixBytes, alignment: 4096)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: tokens * columns)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: tokens * rows)
        defer {
            storage.deallocate()
            x.deallocate()
            y.deallocate()
        }
        fillWeights(storage, type: .f32, count: count * rows, columns: columns)
        for i in 0..<(tokens * columns) { x[i] = Float(i % 17) * 0.01 - 0.08 }
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        let weights = storage.assumingMemoryBound(to: Float.self)
        let start = monotonicNanoseconds()
        var best = Double.infinity, passes = 0
        repeat {
            let passStart = monotonicNanoseconds()
            for m in 0..<count {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), Int32(rows), Int32(columns), 1,
                            x, Int32(columns), weights + m * rows * columns, Int32(columns), 0, y, Int32(rows))
            }
            best = min(best, Double(monotonicNanoseconds() - passStart) * 1e-9 / Double(count))
            passes += 1
        } while passes < 3 || Double(monotonicNanoseconds() - start) * 1e-9 < minimumSeconds
        return best
    }

    /// A plain-text table of `measureMatMul` results.
    public static func table(_ results: [MatMulResult]) -> String {
        var lines = ["tokens    ms/mul    GB/s  x1-token  roofline-ms  x-roofline  sgemm-ms  sgemm/stream"]
        for r in results {
            let sgemm = r.sgemmSeconds.map { format($0 * 1e3, 8, 3) } ?? "       -"
            let ratio = r.sgemmSeconds.map { format($0 / r.seconds, 12, 2) } ?? "           -"
            lines.append(format(Double(r.tokens), 6, 0) + format(r.seconds * 1e3, 10, 3)
                         + format(r.achievedBytesPerSecond / 1e9, 8, 1) + format(r.ratioToOneToken, 10, 2)
                         + format(r.rooflineSeconds * 1e3, 13, 3) + format(r.ratioToRoofline, 12, 2)
                         + "  " + sgemm + "  " + ratio)
        }
        return lines.joined(separator: "\n")
    }

    static func format(_ value: Double, _ width: Int, _ decimals: Int) -> String {
        var scaled = value
        for _ in 0..<decimals { scaled *= 10 }
        let rounded = Int((scaled).rounded())
        var text: String
        if decimals == 0 {
            text = String(rounded)
        } else {
            let magnitude = abs(rounded)
            var p = 1
            for _ in 0..<decimals { p *= 10 }
            let fraction = String(magnitude % p)
            text = (rounded < 0 ? "-" : "") + String(magnitude / p) + "."
                + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }

    /// Random bytes (xorshift), used where any bit pattern will do.
    static func fillRandom(_ p: UnsafeMutableRawPointer, bytes: Int, seed: UInt64) {
        var s = seed | 1
        let words = p.bindMemory(to: UInt64.self, capacity: bytes / 8)
        for i in 0..<(bytes / 8) {
            s ^= s << 13
            s ^= s >> 7
            s ^= s << 17
            words[i] = s
        }
    }

    /// Random finite weights in [-1, 1) (q8_0 with small scales).
    static func fillWeights(_ p: UnsafeMutableRawPointer, type: WeightType, count rows: Int, columns: Int) {
        var s: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> Float {
            s ^= s << 13
            s ^= s >> 7
            s ^= s << 17
            return Float(s >> 40) / Float(1 << 23) - 1
        }
        let rowBytes = type.rowBytes(columns: columns)
        for r in 0..<rows {
            let row = p + r * rowBytes
            for k in 0..<columns {
                let v = next()
                switch type {
                case .f32: row.storeBytes(of: v, toByteOffset: 4 * k, as: Float.self)
                case .f16: row.storeBytes(of: Float16(v).bitPattern, toByteOffset: 2 * k, as: UInt16.self)
                case .bf16: row.storeBytes(of: UInt16(v.bitPattern >> 16), toByteOffset: 2 * k, as: UInt16.self)
                case .q8_0:
                    let block = row + k / 32 * 34
                    if k % 32 == 0 { block.storeBytes(of: Float16(0.01).bitPattern, as: UInt16.self) }
                    block.storeBytes(of: Int8(v * 127), toByteOffset: 2 + k % 32, as: Int8.self)
                }
            }
        }
    }
}
