import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ServeBenchmark
import Testing

@Suite("the SVG plot")
struct ServePlotTests {
    static func result() -> ServeBenchmark.Result {
        var records: [RequestRecord] = []
        for index in 0..<40 {
            var record = RequestRecord(index: index, promptID: "\(index)", sent: Double(index) * 0.1)
            record.chunkTimes = (1...20).map { record.sent + 0.05 + Double($0) * 0.01 * Double(1 + index % 3) }
            record.finished = record.chunkTimes.last! + 0.001
            record.completionTokens = 20
            record.promptTokens = 30
            records.append(record)
        }
        var failed = RequestRecord(index: 40, promptID: "x", sent: 1)
        failed.finished = 1.1
        failed.error = "HTTP 500: boom & <bust>"
        records.append(failed)
        return ServeBenchmark.Result(model: "m", records: records, duration: 5, connections: 4)
    }

    @Test("is well-formed XML with the throughput line, four histograms and escaped text")
    func wellFormed() throws {
        let svg = ServePlot.svg(Self.result(), title: "run <1> & co")
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(svg.contains("run &lt;1&gt; &amp; co"))
        for title in ["Output throughput over time", "TTFT (ms)", "TPOT (ms)", "ITL (ms)", "E2E latency (ms)"] {
            #expect(svg.contains(title))
        }
        #expect(svg.components(separatedBy: "<polyline").count == 2)
        #expect(svg.contains("40 ok, 1 failed"))
    }

    @Test("empty distributions say so instead of drawing nothing")
    func empty() throws {
        var failed = RequestRecord(index: 0, promptID: "x", sent: 0)
        failed.finished = 0.1
        failed.error = "no response"
        let svg = ServePlot.svg(ServeBenchmark.Result(model: "m", records: [failed], duration: 0.1, connections: 1), title: "t")
        #expect(XMLParser(data: Data(svg.utf8)).parse())
        #expect(svg.components(separatedBy: "no samples").count == 5)
    }

    static let rsvgConvert = ["/usr/bin/rsvg-convert", "/bin/rsvg-convert"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("renders to a PNG with librsvg", .enabled(if: rsvgConvert != nil, "rsvg-convert missing (Debian librsvg2-bin; .ci/deps installs it)"))
    func renders() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("specula-plot-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let svg = directory.appendingPathComponent("plot.svg")
        let png = directory.appendingPathComponent("plot.png")
        try Data(ServePlot.svg(Self.result(), title: "render check").utf8).write(to: svg)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.rsvgConvert!)
        process.arguments = ["-o", png.path, svg.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(message)")
        let bytes = try Data(contentsOf: png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) && bytes.count > 10_000, "a PNG with content")
    }
}
