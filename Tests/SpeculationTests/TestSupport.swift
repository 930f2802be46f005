import Foundation
import TestRandom
@testable import Speculation

/// Random tokens below `alphabet`, with runs and copied stretches so suffixes share long prefixes.
func randomTokens(count: Int, alphabet: Int, rng: inout SplitMix64) -> [Int32] {
    var out: [Int32] = []
    while out.count < count {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0 where out.count > 4:  // copy an earlier stretch
            let start = Int.random(in: 0..<out.count, using: &rng)
            let length = Int.random(in: 1...min(12, out.count - start), using: &rng)
            out.append(contentsOf: out[start..<start + length])
        case 1:  // a run of one token
            let t = Int32.random(in: 0..<Int32(alphabet), using: &rng)
            out.append(contentsOf: repeatElement(t, count: Int.random(in: 1...6, using: &rng)))
        default:
            out.append(Int32.random(in: 0..<Int32(alphabet), using: &rng))
        }
    }
    return Array(out.prefix(count))
}

/// Suffix start positions sorted by comparing whole suffixes (a proper prefix sorts first).
func naiveSuffixArray(_ text: [Int32]) -> [Int] {
    text.indices.sorted { text[$0...].lexicographicallyPrecedes(text[$1...]) }
}

/// A fresh path in the temporary directory.
func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("speculation-\(UUID().uuidString)-\(name)").path
}
