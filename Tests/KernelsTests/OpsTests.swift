import Foundation
import Kernels
import Testing

@Suite struct OpsTests {
    @Test(arguments: [1, 7, 16, 100, 2048, 3001])
    func rmsNormMatchesDoubleReference(count: Int) {
        let x = randomActivations(count: count, seed: 1)
        let weight = randomActivations(count: count, seed: 2)
        var out = [Float](repeating: .nan, count: count)
        Ops.rmsNorm(x, weight: weight, eps: 1e-5, count: count, into: &out)
        let meanSquare = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(count)
        let inv = 1 / (meanSquare + 1e-5).squareRoot()
        for i in 0..<count {
            let expected = Double(weight[i]) * Double(x[i]) * inv
            #expect(abs(Double(out[i]) - expected) <= 1e-6 * max(1, abs(expected)), "element \(i)")
        }
    }

    @Test func rmsNormMayWorkInPlace() {
        var x = randomActivations(count: 33, seed: 3)
        let weight = [Float](repeating: 1, count: 33)
        var separate = [Float](repeating: 0, count: 33)
        Ops.rmsNorm(x, weight: weight, eps: 1e-6, count: 33, into: &separate)
        x.withUnsafeMutableBufferPointer { Ops.rmsNorm($0.baseAddress!, weight: weight, eps: 1e-6, count: 33, into: $0.baseAddress!) }
        #expect(x == separate)
    }

    @Test func siluGateMatchesFormula() {
        var gate: [Float] = [-100, -5, -1, -0.001, 0, 0.5, 3, 20, 90]
        let up: [Float] = [1, 2, -3, 4, 5, -6, 7, 0.5, 1]
        let expected = zip(gate, up).map { g, u in Double(g) / (1 + exp(-Double(g))) * Double(u) }
        Ops.siluGate(gate: &gate, up: up, count: gate.count)
        for i in 0..<gate.count {
            #expect(abs(Double(gate[i]) - expected[i]) <= 1e-6 * max(1e-3, abs(expected[i])), "element \(i)")
        }
    }

    @Test func softmaxMatchesReferenceAndSumsToOne() {
        var x: [Float] = [1000, 999, 990, -5, 0, 1000]
        let m = Double(x.max()!)
        let e = x.map { exp(Double($0) - m) }
        let total = e.reduce(0, +)
        Ops.softmax(&x, count: x.count)
        for i in 0..<x.count { #expect(abs(Double(x[i]) - e[i] / total) <= 1e-6) }
        #expect(abs(x.reduce(0, +) - 1) <= 1e-6)
    }

    @Test(arguments: [1, 15, 16, 17, 64, 100, 128])
    func dotAndAxpyMatchReference(count: Int) {
        let a = randomActivations(count: count, seed: 4)
        let b = randomActivations(count: count, seed: 5)
        let expected = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let magnitude = zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        #expect(abs(Double(Ops.dot(a, b, count: count)) - expected) <= 1e-6 * magnitude)
        var y = b
        Ops.axpy(0.37, a, into: &y, count: count)
        for i in 0..<count { #expect(abs(Double(y[i]) - (Double(b[i]) + 0.37 * Double(a[i]))) <= 1e-6 * 3) }
    }

    @Test func addScaleArgmax() {
        let a: [Float] = [1, 2, 3, 4, 5]
        let b: [Float] = [0.5, -2, 7, 0, 1]
        var out = [Float](repeating: 0, count: 5)
        Ops.add(a, b, into: &out, count: 5)
        #expect(out == [1.5, 0, 10, 4, 6])
        Ops.scale(&out, by: 2, count: 5)
        #expect(out == [3, 0, 20, 8, 12])
        #expect(Ops.argmax(out, count: 5) == 2)
        #expect(Ops.argmax([3, 9, 9, 1], count: 4) == 1)
        #expect(Ops.argmax([Float](), count: 0) == 0)
    }
}
