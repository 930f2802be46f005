import Testing
@testable import Speculation

@Suite struct ChildIndexTests {
    /// The table answers exactly what a dictionary of the same insertions answers, through growth.
    @Test func answersLikeADictionary() {
        var rng = SystemRandomNumberGenerator()
        var index = ChildIndex()
        var reference: [UInt64: Int32] = [:]
        for child in 0..<5000 {
            let parent = Int32.random(in: 0..<Int32(max(1, child)), using: &rng)
            let token = Int32.random(in: 0..<4096, using: &rng)
            guard reference[ChildIndex.key(parent, token)] == nil else { continue }
            reference[ChildIndex.key(parent, token)] = Int32(child)
            index.insert(parent: parent, token: token, child: Int32(child))
        }
        for (key, child) in reference {
            #expect(index[Int32(truncatingIfNeeded: key >> 32), Int32(truncatingIfNeeded: key)] == child)
        }
        for _ in 0..<2000 {
            let parent = Int32.random(in: 0..<5000, using: &rng), token = Int32.random(in: 0..<4096, using: &rng)
            #expect(index[parent, token] == reference[ChildIndex.key(parent, token)])
        }
    }

    @Test func emptiedAndReservedTablesStayCorrect() {
        var index = ChildIndex(capacity: 3)
        for t in 0..<100 { index.insert(parent: 0, token: Int32(t), child: Int32(t + 1)) }
        #expect(index[0, 99] == 100)
        index.removeAll()
        #expect(index[0, 99] == nil)
        index.reserveCapacity(1000)
        index.insert(parent: 7, token: 9, child: 3)
        #expect(index[7, 9] == 3 && index[9, 7] == nil)
    }
}
