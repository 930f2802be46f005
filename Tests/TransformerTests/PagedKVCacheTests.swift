import Testing
import Transformer

@Suite("Paged KV cache")
struct PagedKVCacheTests {
    @Test("a step that does not fit reports cacheFull and changes nothing")
    func cacheFull() throws {
        let harness = try ModelHarness(path: FixturePaths.bundledModel, kvCacheMB: 1)
        let cache = harness.cache
        let capacity = cache.freeTokenCapacity
        let sequence = cache.createSequence()
        var batch = Batch()
        batch.appendChain(Array(repeating: 281, count: min(capacity + 1, harness.model.maxTokensPerStep)),
                          sequence: sequence, startPosition: 0)
        if capacity + 1 <= harness.model.maxTokensPerStep {
            #expect(harness.model.forward(batch, cache: cache) == .cacheFull)
            #expect(cache.freeTokenCapacity == capacity)
            #expect(cache.length(of: sequence) == 0)
        }
        // Fill the cache in steps until it reports full, then release everything.
        var filled = 0
        while true {
            batch.removeAll()
            batch.appendChain(Array(repeating: 281, count: 16), sequence: sequence, startPosition: filled)
            if harness.model.forward(batch, cache: cache) == .cacheFull { break }
            cache.commit(sequence, count: 16)
            filled += 16
        }
        #expect(filled == capacity)
        cache.release(sequence)
        #expect(cache.freeTokenCapacity == capacity)
    }

    @Test("blocks are allocated on demand and freed by truncate and release")
    func allocation() {
        let cache = PagedKVCache(layers: 2, kvHeads: 2, headDim: 8, blockSize: 4, budgetMB: 1)
        let total = cache.freeBlockCount
        let a = cache.createSequence()
        let b = cache.createSequence()
        #expect(cache.reserve(a, slots: 9))
        #expect(cache.freeBlockCount == total - 3)
        cache.commit(a, count: 9)
        cache.truncate(a, to: 4)
        #expect(cache.freeBlockCount == total - 1)
        #expect(!cache.reserve(b, slots: (total + 1) * 4))
        #expect(cache.freeBlockCount == total - 1)
        cache.release(a)
        #expect(cache.freeBlockCount == total)
        #expect(cache.createSequence() == a)
    }
}
