import Foundation

/// A hand-written SVG document: a few primitives, numbers rounded to 0.1 px, text escaped.
struct SVGDocument {
    let width: Double
    let height: Double
    private var elements: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil) {
        let outline = stroke.map { " stroke=\"\($0)\"" } ?? ""
        elements.append("<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(max(width, 0)))\" height=\"\(n(max(height, 0)))\" fill=\"\(fill)\"\(outline)/>")
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1, dash: String? = nil) {
        let dashes = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        elements.append("<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\"\(dashes)/>")
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 2) {
        guard points.count > 1 else { return }
        let list = points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\" stroke-linejoin=\"round\"/>")
    }

    enum Anchor: String {
        case start, middle, end
    }

    mutating func text(_ content: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                       weight: String = "normal", fill: String = "#222", rotate: Bool = false) {
        let rotation = rotate ? " transform=\"rotate(-90 \(n(x)) \(n(y)))\"" : ""
        elements.append("<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor.rawValue)\" "
            + "font-weight=\"\(weight)\" fill=\"\(fill)\"\(rotation)>\(Self.escape(content))</text>")
    }

    var rendered: String {
        let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
            + "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
        return head + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + elements.joined(separator: "\n") + "\n</svg>\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    private func n(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}

/// Round tick values for an axis from 0 to at least `maximum`: steps of 1, 2 or 5 times a power of ten.
struct AxisTicks: Equatable {
    let step: Double
    let top: Double

    init(maximum: Double, count: Int = 5) {
        let target = max(maximum, 1e-9) / Double(count)
        let magnitude = pow(10, floor(log10(target)))
        let fraction = target / magnitude
        step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude
        top = (max(maximum, 1e-9) / step).rounded(.up) * step
    }

    var values: [Double] {
        stride(from: 0, through: top + step / 2, by: step).map { $0 }
    }

    /// A tick label without noise digits.
    func label(_ value: Double) -> String {
        if step >= 1 { return String(Int(value.rounded())) }
        let decimals = Int(-floor(log10(step)))
        return String(format: "%.\(decimals)f", value)
    }
}
