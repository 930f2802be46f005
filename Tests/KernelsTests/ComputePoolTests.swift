import Kernels
import Testing

@Suite struct ComputePoolTests {
    @Test(arguments: [1, 2, 3, 5])
    func everyIndexRunsExactlyOnceUnderRepeatedUse(threads: Int) {
        let pool = ComputePool(threads: threads, spinMicroseconds: 20)
        #expect(pool.threadCount == threads)
        let maxCount = 257
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: maxCount)
        let seenThreads = UnsafeMutablePointer<Int>.allocate(capacity: maxCount)
        defer {
            hits.deallocate()
            seenThreads.deallocate()
        }
        for round in 0..<2000 {
            let count = round % maxCount
            hits.initialize(repeating: 0, count: maxCount)
            seenThreads.initialize(repeating: -1, count: maxCount)
            pool.parallelFor(count) { i, thread in
                hits[i] += 1
                seenThreads[i] = thread
            }
            let wrong = (0..<maxCount).first { hits[$0] != ($0 < count ? 1 : 0) }
            #expect(wrong == nil, "round \(round): index \(wrong ?? -1) ran \(hits[wrong ?? 0]) times")
            let badThread = (0..<count).first { seenThreads[$0] < 0 || seenThreads[$0] >= threads }
            #expect(badThread == nil)
            if wrong != nil || badThread != nil { break }
        }
    }

    @Test func survivesSleepingWorkers() {
        // A zero spin makes workers sleep between jobs, exercising the wake-up path.
        let pool = ComputePool(threads: 3, spinMicroseconds: 0)
        var total = 0
        for _ in 0..<300 {
            let sums = UnsafeMutablePointer<Int>.allocate(capacity: 64)
            sums.initialize(repeating: 0, count: 64)
            pool.parallelFor(64) { i in sums[i] = i }
            total += (0..<64).reduce(0) { $0 + sums[$1] }
            sums.deallocate()
        }
        #expect(total == 300 * (63 * 64 / 2))
    }

    @Test func nestedCallsRunSerially() {
        let pool = ComputePool(threads: 2, spinMicroseconds: 20)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 8 * 8)
        hits.initialize(repeating: 0, count: 64)
        defer { hits.deallocate() }
        pool.parallelFor(8) { outer in
            pool.parallelFor(8) { inner in hits[outer * 8 + inner] += 1 }
        }
        #expect((0..<64).allSatisfy { hits[$0] == 1 })
    }

    @Test func poolIsReleasedWithItsThreads() {
        for _ in 0..<20 {
            let pool = ComputePool(threads: 2, spinMicroseconds: 10)
            var x = 0
            pool.parallelFor(1) { _ in x += 1 }
            #expect(x == 1)
        }
    }
}
