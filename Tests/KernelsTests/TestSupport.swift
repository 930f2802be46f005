import Kernels
import TestRandom

extension SplitMix64 {
    mutating func float(_ range: ClosedRange<Float> = -1...1) -> Float { Float.random(in: range, using: &self) }
}

/// A weight matrix in its stored bytes plus the f64 values the stored bytes mean, decoded
/// independently of the kernels (bit manipulation and Swift's Float16).
final class TestWeights {
    let type: WeightType
    let rows: Int
    let columns: Int
    let bytes: UnsafeMutableRawPointer
    let values: [Double]  // [rows, columns]

    init(type: WeightType, rows: Int, columns: Int, seed: UInt64) {
        self.type = type
        self.rows = rows
        self.columns = columns
        var rng = SplitMix64(seed: seed)
        let rowBytes = type.rowBytes(columns: columns)
        bytes = UnsafeMutableRawPointer.allocate(byteCount: max(1, rows * rowBytes), alignment: 64)
        var values = [Double](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            let row = bytes + r * rowBytes
            for k in 0..<columns {
                let v = rng.float()
                switch type {
                case .f32:
                    row.storeBytes(of: v, toByteOffset: 4 * k, as: Float.self)
                    values[r * columns + k] = Double(v)
                case .f16:
                    let h = Float16(v)
                    row.storeBytes(of: h.bitPattern, toByteOffset: 2 * k, as: UInt16.self)
                    values[r * columns + k] = Double(Float(h))
                case .bf16:
                    let bits = UInt16(truncatingIfNeeded: v.bitPattern >> 16)
                    row.storeBytes(of: bits, toByteOffset: 2 * k, as: UInt16.self)
                    values[r * columns + k] = Double(Float(bitPattern: UInt32(bits) << 16))
                case .q8_0:
                    let block = row + (k / 32) * 34
                    if k % 32 == 0 {
                        let d = Float16(rng.float(0.001...0.02))
                        block.storeBytes(of: d.bitPattern, as: UInt16.self)
                    }
                    let d = Float(Float16(bitPattern: block.load(as: UInt16.self)))
                    let q = Int8.random(in: -127...127, using: &rng)
                    block.storeBytes(of: q, toByteOffset: 2 + k % 32, as: Int8.self)
                    values[r * columns + k] = Double(d * Float(q))
                }
            }
        }
        self.values = values
    }

    deinit { bytes.deallocate() }

    var matrix: WeightMatrix { WeightMatrix(type: type, rows: rows, columns: columns, data: bytes) }
}

func randomActivations(count: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in rng.float(-2...2) }
}

/// `y[n, rows] = x · Wᵀ` in f64, plus `Σ|w·x|` per output (the scale f32 rounding errors grow with).
func referenceMatMul(_ w: TestWeights, x: [Float], tokens n: Int) -> (y: [Double], magnitude: [Double]) {
    var y = [Double](repeating: 0, count: n * w.rows)
    var magnitude = y
    for t in 0..<n {
        for r in 0..<w.rows {
            var sum = 0.0, mag = 0.0
            for k in 0..<w.columns {
                let p = w.values[r * w.columns + k] * Double(x[t * w.columns + k])
                sum += p
                mag += abs(p)
            }
            y[t * w.rows + r] = sum
            magnitude[t * w.rows + r] = mag
        }
    }
    return (y, magnitude)
}

/// Index and size of the worst error of `y` against the reference, relative to `Σ|w·x|`.
func worstRelativeError(_ y: [Float], _ ref: (y: [Double], magnitude: [Double])) -> (index: Int, error: Double) {
    var worst = (index: -1, error: 0.0)
    for i in 0..<y.count {
        let error = abs(Double(y[i]) - ref.y[i]) / max(ref.magnitude[i], 1e-30)
        if error > worst.error || error.isNaN { worst = (i, error) }
    }
    return worst
}
