import Engine
import Testing

@Suite("Stop strings")
struct StopMatcherTests {
    /// Feeds deltas; returns the emitted text and the stop that ended it.
    func run(_ stops: [String], _ deltas: [String]) -> (String, String?) {
        var matcher = StopMatcher(stops: stops)
        var text = ""
        for delta in deltas {
            let output = matcher.push(delta)
            text += output.text
            if let stop = output.stop { return (text, stop) }
        }
        return (text + matcher.finish(), nil)
    }

    @Test("a stop string split across deltas is found and not emitted")
    func acrossBoundaries() {
        let (text, stop) = run(["\ndef "], ["x = 1", "\n", "de", "f foo", "()"])
        #expect(text == "x = 1")
        #expect(stop == "\ndef ")
    }

    @Test("held-back text that turns out not to be a stop is released in order")
    func releasesNearMisses() {
        var matcher = StopMatcher(stops: ["STOP"])
        #expect(matcher.push("abc ST").text == "abc ")
        #expect(matcher.push("OX").text == "STOX")
        #expect(matcher.push("S").text == "")
        #expect(matcher.finish() == "S")
    }

    @Test("the earliest of several stop strings wins")
    func earliestWins() {
        let (text, stop) = run(["world", "lo"], ["hello world"])
        #expect(text == "hel")
        #expect(stop == "lo")
    }

    @Test("no stop strings pass text straight through")
    func noStops() {
        let (text, stop) = run([], ["a", "b"])
        #expect(text == "ab")
        #expect(stop == nil)
    }

    @Test("non-ASCII stops and text")
    func unicode() {
        let (text, stop) = run(["日本"], ["こんにちは日", "本語"])
        #expect(text == "こんにちは")
        #expect(stop == "日本")
    }
}
