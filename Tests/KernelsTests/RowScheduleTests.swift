import Kernels
import Testing

@Suite struct RowScheduleTests {
    @Test(arguments: [1, 15, 16, 100, 2048, 5632, 32000], [1, 2, 3, 8])
    func chunksCoverEveryRowOnceOnLineBoundaries(rows: Int, threads: Int) {
        for minimum in [16, 64, 1000] {
            let schedule = RowSchedule(rows: rows, threads: threads, minimumRows: minimum)
            var next = 0
            for i in 0..<schedule.count {
                let range = schedule.bounds(i)
                #expect(range.lowerBound == next)
                #expect(range.lowerBound % 16 == 0 || range.isEmpty)
                next = range.upperBound
            }
            #expect(next == rows)
        }
    }

    @Test func firstChunksAreTheLargest() {
        let schedule = RowSchedule(rows: 2048, threads: 2, minimumRows: 16)
        #expect(schedule.bounds(0) == 0..<512)
        #expect(schedule.bounds(1) == 512..<1024)
        #expect(schedule.bounds(schedule.count - 1).count == 128)  // 4 levels: 512, 256, 128, 128 per thread
    }
}
