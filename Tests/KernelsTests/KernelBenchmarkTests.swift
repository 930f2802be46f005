import Foundation
import Kernels
import Testing

/// Not a timing assertion: prints the kernel table when SPECULA_KERNEL_BENCH=1 (run it in release:
/// `SPECULA_KERNEL_BENCH=1 swift test -c release --filter KernelBenchmarkTests`).
@Suite struct KernelBenchmarkTests {
    static let enabled = ProcessInfo.processInfo.environment["SPECULA_KERNEL_BENCH"] == "1"

    @Test(.enabled(if: enabled))
    func printMatMulTables() {
        let pool = ComputePool(threads: ProcessInfo.processInfo.activeProcessorCount)
        let bandwidth = KernelBenchmarks.measureReadBandwidth(pool: pool)
        let peak = KernelBenchmarks.measurePeakFLOPs(pool: pool)
        print("isa \(KernelISA.detected), threads \(pool.threadCount), read \(bandwidth / 1e9) GB/s, peak \(peak / 1e9) GFLOP/s")
        let env = ProcessInfo.processInfo.environment
        let types = (env["SPECULA_KERNEL_BENCH_TYPES"] ?? "bf16").split(separator: ",").compactMap { name in
            WeightType.allCases.first { $0.description == name }
        }
        let tokens = (env["SPECULA_KERNEL_BENCH_TOKENS"] ?? "1,2,4,8,16,32,64,128,512").split(separator: ",").compactMap { Int($0) }
        let shapes = (env["SPECULA_KERNEL_BENCH_SHAPES"] ?? "2048x2048,5632x2048").split(separator: ",").compactMap { s -> (Int, Int)? in
            let p = s.split(separator: "x").compactMap { Int($0) }
            return p.count == 2 ? (p[0], p[1]) : nil
        }
        let isa = KernelISA.allCases.first { "\($0)" == env["SPECULA_KERNEL_BENCH_ISA"] } ?? .detected
        for type in types {
            for (rows, columns) in shapes {
                let results = KernelBenchmarks.measureMatMul(type: type, rows: rows, columns: columns, tokens: tokens,
                                                             pool: pool, bandwidth: bandwidth, peakFLOPs: peak,
                                                             totalBytes: (Int(env["SPECULA_KERNEL_BENCH_TOTAL_MB"] ?? "") ?? 256) << 20,
                                                             isa: isa)
                print("\n\(type) \(rows)x\(columns) \(isa)\n" + KernelBenchmarks.table(results))
                #expect(results.count == tokens.count)
                if env["SPECULA_KERNEL_BENCH_SGEMM"] == "1", let n = tokens.max() {
                    let sgemm = KernelBenchmarks.measureSgemm(rows: rows, columns: columns, tokens: n, threads: pool.threadCount)
                    let ours = results.last { $0.tokens == n }?.seconds ?? .nan
                    print("f32 cblas_sgemm \(rows)x\(columns) n=\(n), OpenBLAS \(pool.threadCount) threads: \(sgemm * 1e3) ms"
                          + " (\(2 * Double(rows * columns * n) / sgemm / 1e9) GFLOP/s); ours/sgemm throughput \(sgemm / ours)")
                }
            }
        }
    }
}
