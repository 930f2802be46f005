/// Measuring where sgemm overtakes the streaming kernels on the running machine.
extension MatMul {
    /// One crossover measurement: the two paths' seconds per multiply at each token count tried.
    public struct CalibrationPoint: Sendable {
        public var tokens: Int
        public var streamingSeconds: Double
        public var sgemmSeconds: Double

        public init(tokens: Int, streamingSeconds: Double, sgemmSeconds: Double) {
            self.tokens = tokens
            self.streamingSeconds = streamingSeconds
            self.sgemmSeconds = sgemmSeconds
        }
    }

    /// Times both paths on `rows x columns` random matrices of each type in `types` (cycling through
    /// `totalBytes` of them so weights come from memory, as in a forward pass), for token counts
    /// `candidates` in increasing order, and sets `MatMul.crossover` for those types to the first
    /// count at which sgemm is faster by more than `margin` and stays so; `Int.max` if it never is.
    /// Types not measured keep their value. Takes roughly a second per type.
    /// - Returns: the new crossover and the measurements behind it.
    @discardableResult
    public static func calibrate(pool: ComputePool, types: [WeightType] = [.bf16], rows: Int = 2048, columns: Int = 2048,
                                 candidates: [Int] = [16, 32, 64, 128, 256, 512], margin: Double = 0.05,
                                 totalBytes: Int = 64 << 20) -> (crossover: MatMulCrossover, points: [WeightType: [CalibrationPoint]]) {
        var result = crossover
        var points: [WeightType: [CalibrationPoint]] = [:]
        for type in types {
            let measured = KernelBenchmarks.measureMatMul(
                type: type, rows: rows, columns: columns, tokens: candidates, pool: pool, bandwidth: 1, peakFLOPs: 1,
                totalBytes: totalBytes, includeSgemm: true, minimumSeconds: 0.02)
            let list = measured.map {
                CalibrationPoint(tokens: $0.tokens, streamingSeconds: $0.seconds, sgemmSeconds: $0.sgemmSeconds ?? .infinity)
            }
            points[type] = list
            result[type] = crossoverTokens(list, margin: margin)
        }
        crossover = result
        return (result, points)
    }

    /// The first token count from which sgemm beats streaming by `margin` at every larger count.
    public static func crossoverTokens(_ points: [CalibrationPoint], margin: Double) -> Int {
        var answer = Int.max
        for point in points.reversed() {
            guard point.sgemmSeconds * (1 + margin) < point.streamingSeconds else { break }
            answer = point.tokens
        }
        return answer
    }
}
