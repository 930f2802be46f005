import Kernels
import Testing

/// Odd shapes so tails of both the 4-row tiles and the 32-column blocks are exercised.
private func shapes(for type: WeightType) -> [(rows: Int, columns: Int)] {
    type == .q8_0 ? [(37, 64), (21, 160)] : [(37, 45), (21, 131), (6, 32)]
}

private let tokenCounts = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 64, 100, 512]
/// f32 accumulation over these short rows stays far below this, relative to Σ|w·x|.
private let tolerance = 1e-5

private func run(_ w: TestWeights, x: [Float], tokens n: Int, pool: ComputePool, path: MatMul.Path,
                 isa: KernelISA = .detected, accumulateOnto initial: [Float]? = nil,
                 precision: ActivationPrecision = .f32) -> [Float] {
    var y = initial ?? [Float](repeating: .nan, count: n * w.rows)
    let scratch = MatMulScratch(maxTokens: n, maxColumns: w.columns, threads: pool.threadCount)
    x.withUnsafeBufferPointer { xb in
        y.withUnsafeMutableBufferPointer { yb in
            MatMul.multiply(w.matrix, x: xb.baseAddress!, tokens: n, into: yb.baseAddress!, pool: pool,
                            scratch: scratch, accumulate: initial != nil, path: path, isa: isa, precision: precision)
        }
    }
    return y
}

@Suite struct MatMulTests {
    let pool = ComputePool(threads: 2, spinMicroseconds: 50)

    @Test(arguments: WeightType.allCases, KernelISA.allCases.filter { $0 <= .detected })
    func streamingMatchesReference(type: WeightType, isa: KernelISA) {
        for (s, shape) in shapes(for: type).enumerated() {
            let w = TestWeights(type: type, rows: shape.rows, columns: shape.columns, seed: UInt64(100 + s))
            for n in tokenCounts {
                let x = randomActivations(count: n * shape.columns, seed: UInt64(n))
                let y = run(w, x: x, tokens: n, pool: pool, path: .streaming, isa: isa)
                let worst = worstRelativeError(y, referenceMatMul(w, x: x, tokens: n))
                #expect(worst.error <= tolerance, "\(type) \(isa) \(shape) n=\(n): element \(worst.index) off by \(worst.error)")
            }
        }
    }

    /// The bf16-activation path equals exact arithmetic on activations rounded to bf16 (nearest even):
    /// bf16 products are exact in f32, so only the f32 sums differ.
    @Test(.enabled(if: ActivationPrecision.bf16Available))
    func bf16ActivationsMatchRoundedReference() {
        for (s, shape) in shapes(for: .bf16).enumerated() {
            let w = TestWeights(type: .bf16, rows: shape.rows, columns: shape.columns, seed: UInt64(500 + s))
            for n in tokenCounts {
                let x = randomActivations(count: n * shape.columns, seed: UInt64(n + 11))
                let rounded = x.map(roundedToBF16)
                let y = run(w, x: x, tokens: n, pool: pool, path: .streaming, accumulateOnto: nil, precision: .bf16)
                let worst = worstRelativeError(y, referenceMatMul(w, x: rounded, tokens: n))
                #expect(worst.error <= tolerance, "\(shape) n=\(n): element \(worst.index) off by \(worst.error)")
                // Not the f32 result: the rounding is real (guards against silently taking the f32 path).
                #expect(worstRelativeError(y, referenceMatMul(w, x: x, tokens: n)).error > tolerance)
            }
        }
    }

    @Test(arguments: WeightType.allCases)
    func sgemmPathMatchesReference(type: WeightType) {
        for (s, shape) in shapes(for: type).enumerated() {
            let w = TestWeights(type: type, rows: shape.rows, columns: shape.columns, seed: UInt64(200 + s))
            for n in [1, 5, 33, 100] {
                let x = randomActivations(count: n * shape.columns, seed: UInt64(n + 7))
                let ref = referenceMatMul(w, x: x, tokens: n)
                let viaSgemm = run(w, x: x, tokens: n, pool: pool, path: .sgemm)
                let streamed = run(w, x: x, tokens: n, pool: pool, path: .streaming)
                #expect(worstRelativeError(viaSgemm, ref).error <= tolerance, "\(type) \(shape) n=\(n) sgemm")
                let agreement = zip(viaSgemm, streamed).map { Double(abs($0 - $1)) }.max() ?? 0
                let scale = ref.magnitude.max() ?? 1
                #expect(agreement <= tolerance * scale, "\(type) \(shape) n=\(n): paths differ by \(agreement)")
            }
        }
    }

    @Test(arguments: WeightType.allCases, [MatMul.Path.streaming, .sgemm])
    func accumulateAddsOntoOutput(type: WeightType, path: MatMul.Path) {
        let w = TestWeights(type: type, rows: 19, columns: 96, seed: 300)
        let n = 6
        let x = randomActivations(count: n * 96, seed: 301)
        let initial = randomActivations(count: n * 19, seed: 302)
        let y = run(w, x: x, tokens: n, pool: pool, path: path, accumulateOnto: initial)
        var ref = referenceMatMul(w, x: x, tokens: n)
        for i in 0..<ref.y.count {
            ref.y[i] += Double(initial[i])
            ref.magnitude[i] += abs(Double(initial[i]))
        }
        #expect(worstRelativeError(y, ref).error <= tolerance)
    }

    @Test(arguments: WeightType.allCases)
    func threadCountDoesNotChangeStreamingResults(type: WeightType) {
        let columns = type == .q8_0 ? 512 : 509
        let w = TestWeights(type: type, rows: 301, columns: columns, seed: 400)
        let single = ComputePool(threads: 1)
        let triple = ComputePool(threads: 3, spinMicroseconds: 50)
        for n in [1, 4, 13] {
            let x = randomActivations(count: n * columns, seed: 401)
            let one = run(w, x: x, tokens: n, pool: single, path: .streaming)
            let many = run(w, x: x, tokens: n, pool: triple, path: .streaming)
            #expect(one == many, "\(type) n=\(n): results depend on the thread count")
            let ref = referenceMatMul(w, x: x, tokens: n)
            #expect(worstRelativeError(many, ref).error <= tolerance)
            let viaSgemm = run(w, x: x, tokens: n, pool: triple, path: .sgemm)
            #expect(worstRelativeError(viaSgemm, ref).error <= tolerance)
        }
    }

    /// A token's outputs are the same bits whether it is multiplied alone or beside others, whatever
    /// tile its step's token count picks: greedy speculation verifies drafts in steps of several tokens
    /// per sequence, and equals `--speculate off` only because of this.
    @Test(arguments: WeightType.allCases, KernelISA.allCases.filter { $0 <= .detected })
    func tokenResultsDoNotDependOnTheTokenCount(type: WeightType, isa: KernelISA) {
        let columns = type == .q8_0 ? 320 : 301
        let w = TestWeights(type: type, rows: 47, columns: columns, seed: 500)
        for n in [2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 17] {
            let x = randomActivations(count: n * columns, seed: UInt64(500 + n))
            let together = run(w, x: x, tokens: n, pool: pool, path: .streaming, isa: isa)
            for t in 0..<n {
                let alone = run(w, x: Array(x[t * columns..<(t + 1) * columns]), tokens: 1, pool: pool,
                                path: .streaming, isa: isa)
                #expect(Array(together[t * w.rows..<(t + 1) * w.rows]) == alone,
                        "\(type) \(isa) token \(t) of \(n) differs from the same token alone")
            }
        }
    }

    @Test func automaticPathFollowsCrossover() {
        let saved = MatMul.crossover
        defer { MatMul.crossover = saved }
        var crossover = saved
        crossover.bf16 = 3
        MatMul.crossover = crossover
        #expect(MatMul.crossover.bf16 == 3)
        let w = TestWeights(type: .bf16, rows: 40, columns: 64, seed: 500)
        for n in [1, 2, 3, 8] {
            let x = randomActivations(count: n * 64, seed: 501)
            let y = run(w, x: x, tokens: n, pool: pool, path: .automatic)
            #expect(worstRelativeError(y, referenceMatMul(w, x: x, tokens: n)).error <= tolerance)
        }
    }

    @Test(arguments: WeightType.allCases)
    func widenedRowsEqualStoredValues(type: WeightType) {
        let w = TestWeights(type: type, rows: 5, columns: type == .q8_0 ? 96 : 77, seed: 600)
        var out = [Float](repeating: .nan, count: w.columns)
        for r in 0..<w.rows {
            out.withUnsafeMutableBufferPointer { w.matrix.row(r, into: $0.baseAddress!) }
            let expected = (0..<w.columns).map { Float(w.values[r * w.columns + $0]) }
            #expect(out == expected, "\(type) row \(r)")
        }
    }

    @Test func zeroColumnsGiveZeros() {
        let w = TestWeights(type: .bf16, rows: 5, columns: 0, seed: 700)
        let y = run(w, x: [], tokens: 3, pool: pool, path: .streaming)
        #expect(y == [Float](repeating: 0, count: 15))
    }

    @Test func validatedRejectsBadShapes() throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1024, alignment: 64)
        defer { buffer.deallocate() }
        #expect(throws: KernelsError.self) {
            try WeightMatrix.validated(name: "blk.0.ffn_up", type: .q8_0, rows: 2, columns: 40, byteCount: 1024, data: buffer)
        }
        #expect(throws: KernelsError.self) {
            try WeightMatrix.validated(name: "w", type: .bf16, rows: 4, columns: 4, byteCount: 30, data: buffer)
        }
        let ok = try WeightMatrix.validated(name: "w", type: .q8_0, rows: 2, columns: 64, byteCount: 136, data: buffer)
        #expect(ok.byteCount == 136)
    }
}

@Suite struct CrossoverTests {
    @Test func crossoverIsWhereSgemmStaysFaster() {
        typealias P = MatMul.CalibrationPoint
        let points = [P(tokens: 16, streamingSeconds: 1, sgemmSeconds: 2), P(tokens: 32, streamingSeconds: 2, sgemmSeconds: 1.5),
                      P(tokens: 64, streamingSeconds: 4, sgemmSeconds: 4.1), P(tokens: 128, streamingSeconds: 8, sgemmSeconds: 6),
                      P(tokens: 256, streamingSeconds: 16, sgemmSeconds: 11)]
        #expect(MatMul.crossoverTokens(points, margin: 0.05) == 128)
        #expect(MatMul.crossoverTokens(Array(points.prefix(3)), margin: 0.05) == Int.max)
    }

    @Test func calibrateMeasuresAndSetsTheCrossover() {
        let saved = MatMul.crossover
        defer { MatMul.crossover = saved }
        let pool = ComputePool(threads: 2, spinMicroseconds: 50)
        let (crossover, points) = MatMul.calibrate(pool: pool, types: [.bf16], rows: 64, columns: 64,
                                                   candidates: [4, 16], totalBytes: 1 << 16)
        #expect(points[.bf16]?.count == 2)
        #expect(points[.bf16]?.allSatisfy { $0.streamingSeconds > 0 && $0.sgemmSeconds > 0 } == true)
        #expect(MatMul.crossover == crossover)
        #expect(crossover.f32 == saved.f32)
    }
}

/// `value` rounded to the nearest bf16 (ties to even), as `vcvtne2ps2bf16` does for finite values.
private func roundedToBF16(_ value: Float) -> Float {
    let bits = value.bitPattern
    let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
    return Float(bitPattern: rounded)
}
