import Foundation

/// `--plot FILE.svg`: output tokens per second over the run, and the distributions of TTFT, TPOT,
/// ITL and E2E latency (histograms with the median, p90 and p99 marked).
public enum ServePlot {
    static let width = 960.0
    static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"]

    public static func svg(_ result: ServeBenchmark.Result, title: String) -> String {
        var document = SVGDocument(width: width, height: 790)
        let summary = result.summary
        document.text(title, x: width / 2, y: 28, size: 16, anchor: .middle, weight: "bold")
        document.text(String(format: "%d ok, %d failed in %.1f s: %.2f req/s, %.0f output tok/s, %.0f total tok/s",
                             summary.completed, summary.failed, summary.duration, summary.requestThroughput,
                             summary.outputThroughput, summary.totalTokenThroughput),
                      x: width / 2, y: 48, size: 12, anchor: .middle, fill: "#555")
        throughput(&document, ServeSummary.outputTimeline(result.records), mean: summary.outputThroughput,
                   frame: Frame(x: 70, y: 90, width: width - 100, height: 240))
        let good = result.records.filter(\.succeeded)
        let panels: [(String, [Double], LatencySummary)] = [
            ("TTFT (ms)", good.compactMap(\.ttft).map { $0 * 1000 }, summary.ttft),
            ("TPOT (ms)", good.compactMap(\.tpot).map { $0 * 1000 }, summary.tpot),
            ("ITL (ms)", good.flatMap(\.itls).map { $0 * 1000 }, summary.itl),
            ("E2E latency (ms)", good.compactMap(\.e2e).map { $0 * 1000 }, summary.e2el),
        ]
        for (index, panel) in panels.enumerated() {
            let frame = Frame(x: 70 + Double(index % 2) * 450, y: 410 + Double(index / 2) * 190, width: 380, height: 130)
            histogram(&document, title: panel.0, samples: panel.1, summary: panel.2, color: colors[index], frame: frame)
        }
        return document.rendered
    }

    struct Frame {
        let x: Double
        let y: Double
        let width: Double
        let height: Double
        var bottom: Double { y + height }
    }

    /// Output tokens/s per second of the run, with the run's mean dashed.
    static func throughput(_ document: inout SVGDocument, _ timeline: [Double], mean: Double, frame: Frame) {
        document.text("Output throughput over time (tokens/s, 1 s buckets)", x: frame.x, y: frame.y - 8, size: 13, weight: "bold")
        let xTicks = AxisTicks(maximum: Double(max(timeline.count, 1)))
        let yTicks = AxisTicks(maximum: max(timeline.max() ?? 0, mean, 1) * 1.05)
        axes(&document, frame: frame, xTicks: xTicks, yTicks: yTicks, xLabel: "seconds since start")
        let points = timeline.enumerated().map { index, value in
            (frame.x + (Double(index) + 0.5) / xTicks.top * frame.width, frame.bottom - value / yTicks.top * frame.height)
        }
        document.polyline(points, stroke: colors[0])
        let meanY = frame.bottom - mean / yTicks.top * frame.height
        document.line(x1: frame.x, y1: meanY, x2: frame.x + frame.width, y2: meanY, stroke: "#d62728", dash: "6 4")
        document.text(String(format: "mean %.0f tok/s", mean), x: frame.x + frame.width - 4, y: meanY - 5, size: 11,
                      anchor: .end, fill: "#d62728")
    }

    /// A histogram of `samples` (30 bins from 0 to just above p99; larger samples land in the last
    /// bin), with the median, p90 and p99 as vertical lines.
    static func histogram(_ document: inout SVGDocument, title: String, samples: [Double], summary: LatencySummary,
                          color: String, frame: Frame) {
        document.text(title, x: frame.x, y: frame.y - 8, size: 13, weight: "bold")
        guard !samples.isEmpty else {
            document.rect(x: frame.x, y: frame.y, width: frame.width, height: frame.height, fill: "#fafafa", stroke: "#ccc")
            document.text("no samples", x: frame.x + frame.width / 2, y: frame.y + frame.height / 2, anchor: .middle, fill: "#888")
            return
        }
        let bins = 30
        // Up to just above p99 when a long tail would squash the rest into a few bins; the tail piles
        // into the last bin.
        let largest = samples.max() ?? 0
        let xTicks = AxisTicks(maximum: max(largest > summary.p99 * 1.5 ? summary.p99 * 1.1 : largest, 1e-3))
        var counts = [Int](repeating: 0, count: bins)
        for sample in samples {
            counts[min(Int(sample / xTicks.top * Double(bins)), bins - 1)] += 1
        }
        let yTicks = AxisTicks(maximum: Double(counts.max() ?? 1), count: 3)
        axes(&document, frame: frame, xTicks: xTicks, yTicks: yTicks, xLabel: "ms (count of samples)")
        let barWidth = frame.width / Double(bins)
        for (bin, count) in counts.enumerated() where count > 0 {
            let height = Double(count) / yTicks.top * frame.height
            document.rect(x: frame.x + Double(bin) * barWidth + 0.5, y: frame.bottom - height, width: barWidth - 1, height: height,
                          fill: color)
        }
        for (value, dash) in [(summary.median, "2 2"), (summary.p90, "5 3"), (summary.p99, "8 3")] {
            let x = frame.x + min(value / xTicks.top, 1) * frame.width
            document.line(x1: x, y1: frame.y, x2: x, y2: frame.bottom, stroke: "#333", dash: dash)
        }
        for (row, (label, value)) in [("median", summary.median), ("p90", summary.p90), ("p99", summary.p99)].enumerated() {
            let x = frame.x + min(value / xTicks.top, 1) * frame.width
            let nearRightEdge = x > frame.x + frame.width * 0.7
            document.text(label + String(format: " %.1f", value), x: nearRightEdge ? x - 3 : x + 3, y: frame.y + 11 + Double(row) * 12,
                          size: 10, anchor: nearRightEdge ? .end : .start, fill: "#333")
        }
        document.text(String(format: "mean %.1f, n = %d", summary.mean, samples.count), x: frame.x + frame.width, y: frame.y - 8,
                      size: 11, anchor: .end, fill: "#555")
    }

    static func axes(_ document: inout SVGDocument, frame: Frame, xTicks: AxisTicks, yTicks: AxisTicks, xLabel: String) {
        document.rect(x: frame.x, y: frame.y, width: frame.width, height: frame.height, fill: "#fcfcfc", stroke: "#bbb")
        for value in yTicks.values {
            let y = frame.bottom - value / yTicks.top * frame.height
            document.line(x1: frame.x, y1: y, x2: frame.x + frame.width, y2: y, stroke: "#e5e5e5")
            document.text(yTicks.label(value), x: frame.x - 6, y: y + 4, size: 10, anchor: .end, fill: "#555")
        }
        for value in xTicks.values {
            let x = frame.x + value / xTicks.top * frame.width
            document.line(x1: x, y1: frame.bottom, x2: x, y2: frame.bottom + 4, stroke: "#888")
            document.text(xTicks.label(value), x: x, y: frame.bottom + 16, size: 10, anchor: .middle, fill: "#555")
        }
        document.text(xLabel, x: frame.x + frame.width / 2, y: frame.bottom + 32, size: 11, anchor: .middle, fill: "#555")
    }
}
