import Foundation
import Wire

/// Synthetic frames of a serving run, both directions, for the compression measurement: real code
/// prompts (the bench sets) as text, outputs cut from real Python into tokens of 1-6 characters (ids
/// from a hash of the piece, so repeated pieces repeat ids as a tokenizer's would), 8 requests in
/// flight with their token events interleaved, 1-6 tokens per event (speculation), heartbeats, credits.
struct ServingTraffic {
    var toWorker: [WireMessage] = []
    var toRouter: [WireMessage] = []

    /// xorshift64*: deterministic, so the table in wire.md can be reproduced.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    }

    init(prompts: [String], outputText: String, requests: Int, inFlight: Int = 8) {
        var random = Random(state: 0x9E37_79B9_7F4A_7C15)
        let output = Array(outputText.utf8)
        var outputOffset = 0
        var active: [(id: UInt64, remaining: Int, produced: Int)] = []
        var nextID: UInt64 = 1
        var beat: UInt64 = 0
        toRouter.append(.credits(Credits(count: UInt32(inFlight))))
        while nextID <= UInt64(requests) || !active.isEmpty {
            while active.count < inFlight, nextID <= UInt64(requests) {
                toWorker.append(.assign(Assignment(
                    requestID: nextID, timeoutMilliseconds: 60_000, prompt: .text(prompts[Int(nextID) % prompts.count]),
                    sampling: SamplingParameters(temperature: 0, seed: nextID), maxTokens: 512, stopStrings: ["\n\n\n"],
                    speculation: .auto(cap: nil))))
                active.append((nextID, random.int(100...500), 0))
                nextID += 1
            }
            let slot = random.int(0...(active.count - 1))
            var ids: [UInt32] = []
            var text: [UInt8] = []
            for _ in 0..<random.int(1...6) {
                let length = random.int(1...6)
                if outputOffset + length >= output.count { outputOffset = 0 }
                let piece = output[outputOffset..<(outputOffset + length)]
                outputOffset += length
                ids.append(UInt32(piece.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 } % 4096))
                text += piece
            }
            toRouter.append(.tokens(TokenEvent(requestID: active[slot].id, tokenIDs: ids, text: String(decoding: text, as: UTF8.self))))
            active[slot].produced += ids.count
            if active[slot].produced >= active[slot].remaining {
                let done = active.remove(at: slot)
                toRouter.append(.finish(Finish(
                    requestID: done.id, reason: .length, promptTokens: UInt32(random.int(200...900)), completionTokens: UInt32(done.produced),
                    speculation: SpeculationCounts(drafts: UInt32(done.produced / 3), draftTokens: UInt32(done.produced),
                                                   acceptedTokens: UInt32(done.produced / 2), steps: UInt32(done.produced / 3),
                                                   acceptedPerPosition: [40, 30, 20, 10, 5, 2]))))
                toRouter.append(.credits(Credits(count: 1)))
            }
            if toRouter.count % 200 == 0 {
                beat += 1
                toWorker.append(.heartbeat(Heartbeat(sequence: beat)))
                toRouter.append(.heartbeat(Heartbeat(sequence: beat, isReply: true)))
            }
        }
    }
}
