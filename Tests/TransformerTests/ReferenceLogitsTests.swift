import Testing

/// Our forward pass reproduces transformers' float32 outputs for every fixture checkpoint.
@Suite("Logits equal the reference")
struct ReferenceLogitsTests {
    static let cases = (try? ReferenceCase.all()) ?? []

    @Test("reference cases are present")
    func casesArePresent() {
        #expect(Self.cases.count >= 6 + 7 * 3)
    }

    @Test("last-position logits within tolerance, top-5 at every position", arguments: cases)
    func logits(reference: ReferenceCase) throws {
        let harness = try ModelHarness(path: reference.model)
        let (_, logits) = harness.logitsAtEveryPosition(reference.ids, chunk: 50)
        let last = try #require(logits.last)
        #expect(last.count == reference.lastLogits.count)
        let worst = zip(last, reference.lastLogits).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= reference.tolerance, "max |Δ| = \(worst)")

        for (position, (ids, values)) in zip(reference.top5IDs, reference.top5Values).enumerated() {
            let row = logits[position]
            let ours = row.indices.sorted { row[$0] > row[$1] }.prefix(5)
            for (rank, (id, value)) in zip(ids, values).enumerated() where Array(ours)[rank] != id {
                // Ranks may swap only between near-equal logits.
                let swapped = Array(ours)[rank]
                #expect(abs(row[swapped] - value) < 2e-3, "position \(position) rank \(rank): \(swapped) vs \(id)")
            }
        }
    }

    @Test("greedy continuation matches token for token", arguments: cases)
    func greedy(reference: ReferenceCase) throws {
        let harness = try ModelHarness(path: reference.model)
        #expect(harness.greedy(reference.ids, steps: reference.greedy.count) == reference.greedy)
    }
}
