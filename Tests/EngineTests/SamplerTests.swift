#if canImport(Glibc)
import Glibc
#endif
import Engine
import Testing

@Suite("Sampling")
struct SamplerTests {
    let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 3.0, 0.5]

    func sample(_ parameters: SamplingParameters, logits: [Float]? = nil, history: [Int] = [], draws: Int) -> [Int] {
        let row = logits ?? self.logits
        var sampler = Sampler(parameters: parameters, promptIDs: [])
        for token in history { sampler.record(token) }
        let work = UnsafeMutableBufferPointer<Float>.allocate(capacity: row.count)
        defer { work.deallocate() }
        return row.withUnsafeBufferPointer { pointer in
            (0..<draws).map { _ in sampler.sample(pointer, work: work) }
        }
    }

    @Test("greedy takes the first of tied maxima, like torch.argmax")
    func greedyTies() {
        #expect(sample(.greedy, draws: 3) == [1, 1, 1])
    }

    @Test("the same seed gives the same tokens; another seed gives others")
    func seeds() {
        let a = sample(SamplingParameters(temperature: 1, seed: 7), draws: 200)
        let b = sample(SamplingParameters(temperature: 1, seed: 7), draws: 200)
        let c = sample(SamplingParameters(temperature: 1, seed: 8), draws: 200)
        #expect(a == b)
        #expect(a != c)
    }

    @Test("temperature sampling follows the softmax distribution")
    func distribution() {
        let draws = 40_000
        let tokens = sample(SamplingParameters(temperature: 0.8, seed: 1), draws: draws)
        let weights = logits.map { exp(Double(($0 - 3.0) / 0.8)) }
        let total = weights.reduce(0, +)
        for token in logits.indices {
            let expected = weights[token] / total
            let observed = Double(tokens.filter { $0 == token }.count) / Double(draws)
            // 5 standard deviations of a binomial proportion.
            let tolerance = 5 * (expected * (1 - expected) / Double(draws)).squareRoot() + 1e-4
            #expect(abs(observed - expected) < tolerance, "token \(token): \(observed) vs \(expected)")
        }
    }

    @Test("top-k keeps the k most likely tokens")
    func topK() {
        let tokens = Set(sample(SamplingParameters(temperature: 1, topK: 3, seed: 3), draws: 2000))
        #expect(tokens == [1, 4, 2])
    }

    @Test("top-p keeps the smallest most likely set reaching p")
    func topP() {
        // Probabilities at T=1: 3.0, 3.0 -> ~0.31 each, 2.5 -> ~0.19: p = 0.5 needs the two tied ones.
        let tokens = Set(sample(SamplingParameters(temperature: 1, topP: 0.5, seed: 3), draws: 2000))
        #expect(tokens == [1, 4])
    }

    @Test("min-p drops tokens below a fraction of the most likely one")
    func minP() {
        // exp(2.5 - 3) = 0.61 stays at min_p 0.5; exp(1 - 3) = 0.14 goes.
        let tokens = Set(sample(SamplingParameters(temperature: 1, minP: 0.5, seed: 3), draws: 2000))
        #expect(tokens == [1, 2, 4])
    }

    @Test("logit bias can force or forbid a token")
    func logitBias() {
        #expect(Set(sample(SamplingParameters(temperature: 0, logitBias: [3: 100]), draws: 5)) == [3])
        #expect(sample(SamplingParameters(temperature: 0, logitBias: [1: -100]), draws: 1) == [4])
    }

    @Test("presence and frequency penalties lower tokens already generated")
    func penalties() {
        #expect(sample(SamplingParameters(temperature: 0, presencePenalty: 1), history: [1], draws: 1) == [4])
        // Frequency counts occurrences: 3.0 - 2 x 0.2 = 2.6 loses to 2.8, then wins once the counts swap.
        #expect(sample(SamplingParameters(temperature: 0, frequencyPenalty: 0.2), history: [1, 1, 4], draws: 1) == [4])
        #expect(sample(SamplingParameters(temperature: 0, frequencyPenalty: 0.2), history: [1, 4, 4], draws: 1) == [1])
    }

    @Test("the repetition penalty divides positive and multiplies negative logits")
    func repetitionPenalty() {
        let row: [Float] = [2.0, 1.5, -1.0]
        var sampler = Sampler(parameters: SamplingParameters(temperature: 0, repetitionPenalty: 2), promptIDs: [0, 2])
        let work = UnsafeMutableBufferPointer<Float>.allocate(capacity: 3)
        defer { work.deallocate() }
        let token = row.withUnsafeBufferPointer { sampler.sample($0, work: work) }
        #expect(token == 1)
        #expect(Array(work) == [1.0, 1.5, -2.0])
    }

    @Test("out-of-range parameters are rejected with their name", arguments: [
        (SamplingParameters(temperature: -1), "temperature"),
        (SamplingParameters(topP: 0), "top_p"),
        (SamplingParameters(minP: 2), "min_p"),
        (SamplingParameters(topK: -2), "top_k"),
        (SamplingParameters(repetitionPenalty: 0), "repetition_penalty"),
        (SamplingParameters(presencePenalty: 3), "presence_penalty"),
        (SamplingParameters(logitBias: [99: 1]), "logit_bias"),
    ])
    func validation(parameters: SamplingParameters, name: String) {
        #expect {
            try parameters.validate(vocabularySize: 6)
        } throws: { error in
            "\(error)".contains(name)
        }
    }
}

