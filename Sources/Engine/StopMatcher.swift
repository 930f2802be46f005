/// Finds stop strings in streamed text, also when one spans token boundaries: text that could still
/// become a stop string is held back until it can't.
public struct StopMatcher: Sendable {
    public let stops: [String]
    private var pending = ""
    private let longest: Int

    public init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
        longest = self.stops.map { $0.unicodeScalars.count }.max() ?? 0
    }

    public struct Output: Equatable, Sendable {
        /// Text that is safe to show.
        public var text: String
        /// The stop string that ended the output, if one did (it is not part of `text`).
        public var stop: String?
    }

    /// Feeds a text delta; returns what can be emitted now.
    public mutating func push(_ delta: String) -> Output {
        guard longest > 0 else { return Output(text: delta, stop: nil) }
        pending += delta
        if let (range, stop) = firstStop() {
            let text = String(pending.unicodeScalars[..<range.lowerBound])
            pending = ""
            return Output(text: text, stop: stop)
        }
        let keep = heldBackLength()
        let scalars = pending.unicodeScalars
        let cut = scalars.index(scalars.endIndex, offsetBy: -keep)
        let text = String(scalars[..<cut])
        pending = String(scalars[cut...])
        return Output(text: text, stop: nil)
    }

    /// The text still held back, at the end of the stream.
    public mutating func finish() -> String {
        defer { pending = "" }
        return pending
    }

    /// The earliest stop string in the pending text.
    private func firstStop() -> (Range<String.UnicodeScalarView.Index>, String)? {
        var best: (Range<String.UnicodeScalarView.Index>, String)?
        for stop in stops {
            if let range = pending.unicodeScalars.firstRange(of: stop.unicodeScalars),
               best == nil || range.lowerBound < best!.0.lowerBound {
                best = (range, stop)
            }
        }
        return best
    }

    /// Length (in scalars) of the longest pending suffix that is a proper prefix of some stop string.
    private func heldBackLength() -> Int {
        let scalars = Array(pending.unicodeScalars.suffix(longest - 1))
        for length in stride(from: scalars.count, through: 1, by: -1) {
            let suffix = scalars[(scalars.count - length)...]
            if stops.contains(where: { $0.unicodeScalars.starts(with: suffix) }) {
                return length
            }
        }
        return 0
    }
}
