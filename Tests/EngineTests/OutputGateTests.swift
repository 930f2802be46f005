import Foundation
import Testing
import Tokenization
@testable import Engine

/// Ids leave only with the text they complete, so a request resumed from the ids a client received
/// (failover) neither repeats nor loses text.
@Suite("Output gate")
struct OutputGateTests {
    static let tokenizer = try! Tokenizer.load(path: EngineHarness.modelPath)
    static let text = "x = 'é✓ 日本'\n\ndef f():\n    return 1  # ✓✓\n\nprint(f())"

    /// The old pipeline (detokenizer then stop matcher), for the expected text.
    static func reference(_ ids: [Int], stops: [String]) -> String {
        var detokenizer = StreamingDetokenizer(tokenizer: tokenizer, skipSpecialTokens: true)
        var matcher = StopMatcher(stops: stops)
        var text = ""
        for id in ids {
            let output = matcher.push(detokenizer.push(id))
            text += output.text
            if output.stop != nil { return text }
        }
        let tail = matcher.push(detokenizer.finish())
        return text + tail.text + (tail.stop == nil ? matcher.finish() : "")
    }

    @Test("every event's ids decode to exactly the text sent so far; the whole text is unchanged", arguments: [
        [], ["\n\n"], ["def", "retur"], ["é✓ 日"], ["✓✓"], ["never"],
    ])
    func idsFollowTheirText(stops: [String]) throws {
        let ids = Self.tokenizer.encode(Self.text, addSpecialTokens: false)
        var gate = OutputGate(tokenizer: Self.tokenizer, priorIDs: [], stopStrings: stops)
        var sentIDs: [Int] = []
        var sentText = ""
        var stopped = false
        for id in ids {
            let output = gate.push(id)
            sentIDs += output.ids
            sentText += output.text
            if output.stopped {
                stopped = true
                break
            }
            #expect(Self.tokenizer.decode(sentIDs, skipSpecialTokens: true) == sentText,
                    "after \(sentIDs.count) ids: the text sent is the text of the ids sent")
        }
        if !stopped {
            let tail = gate.finish()
            sentIDs += tail.ids
            sentText += tail.text
            #expect(sentIDs == ids, "at the end every id has left")
        }
        #expect(sentText == Self.reference(ids, stops: stops))
    }

    @Test("a possible stop string holds its whole token back, ids and text")
    func partialStopHoldsTheToken() throws {
        let newline = Self.tokenizer.encode("a\n", addSpecialTokens: false)
        var gate = OutputGate(tokenizer: Self.tokenizer, priorIDs: [], stopStrings: ["\n\n"])
        var sent = OutputGate.Output()
        for id in newline {
            let output = gate.push(id)
            sent.ids += output.ids
            sent.text += output.text
        }
        #expect(!sent.text.hasSuffix("\n"), "the newline might start the stop string")
        #expect(Self.tokenizer.decode(sent.ids, skipSpecialTokens: true) == sent.text)
        let tail = gate.finish()
        #expect(sent.text + tail.text == "a\n" && sent.ids + tail.ids == newline)
    }

    @Test("logprobs leave with their ids, in order, however long the text holds them back", arguments: [[], ["\n\n"], ["✓✓"]])
    func logprobsTravelWithTheirIDs(stops: [String]) throws {
        let ids = Self.tokenizer.encode(Self.text, addSpecialTokens: false)
        var gate = OutputGate(tokenizer: Self.tokenizer, priorIDs: [], stopStrings: stops)
        // Each id's logprob names the id, so a mispairing shows.
        let tag = { (id: Int) in TokenLogprob(logprob: -Float(id), top: [LogprobCandidate(token: id, logprob: -Float(id))]) }
        var sent = OutputGate.Output()
        for id in ids {
            let output = gate.push(id, logprob: tag(id))
            #expect(output.logprobs == output.ids.map(tag))
            sent.ids += output.ids
            sent.logprobs += output.logprobs
            if output.stopped { break }
        }
        let tail = gate.finish()
        #expect(tail.logprobs == tail.ids.map(tag))
        #expect(sent.logprobs + tail.logprobs == (sent.ids + tail.ids).map(tag))
    }

    @Test("without logprobs the gate returns none")
    func noLogprobs() {
        var gate = OutputGate(tokenizer: Self.tokenizer, priorIDs: [], stopStrings: [])
        let output = gate.push(Self.tokenizer.encode("abc", addSpecialTokens: false)[0])
        #expect(!output.ids.isEmpty && output.logprobs.isEmpty)
    }

    @Test("resuming from the ids sent continues the text exactly")
    func resumption() throws {
        let ids = Self.tokenizer.encode(Self.text, addSpecialTokens: false)
        for cut in stride(from: 1, to: ids.count, by: 3) {
            var first = OutputGate(tokenizer: Self.tokenizer, priorIDs: [], stopStrings: ["\n\n\n"])
            var sentIDs: [Int] = []
            var sentText = ""
            for id in ids[..<cut] {
                let output = first.push(id)
                sentIDs += output.ids
                sentText += output.text
            }
            // The worker dies here; another resumes from the ids the client has.
            var second = OutputGate(tokenizer: Self.tokenizer, priorIDs: sentIDs, stopStrings: ["\n\n\n"])
            for id in ids[sentIDs.count...] { sentText += second.push(id).text }
            sentText += second.finish().text
            #expect(sentText == Self.text, "cut after \(cut) ids")
        }
    }
}
