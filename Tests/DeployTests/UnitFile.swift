import Foundation
import ServingTestSupport

/// A systemd unit file read the way systemd reads the parts the deployment tests rely on: sections,
/// `Key=Value` lines (a key may repeat), `#`/`;` comments, and the specifiers the units use (`%i`,
/// `%H`, `%C`, `%%`). Anything else a unit might use (line continuations, `$VAR` in ExecStart) makes
/// the parse fail, so a unit that outgrows this reader fails its tests instead of being misread.
struct UnitFile {
    let path: String
    /// (section, key, value) in file order.
    let entries: [(section: String, key: String, value: String)]

    init(path: String) throws {
        self.path = path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var section = ""
        var entries: [(String, String, String)] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            guard !line.hasSuffix("\\") else { throw ProcessError("\(path):\(number + 1): line continuations are not supported here") }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { throw ProcessError("\(path):\(number + 1): not Key=Value: \(line)") }
            entries.append((section, line[..<equals].trimmingCharacters(in: .whitespaces),
                            line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)))
        }
        self.entries = entries
    }

    func values(_ key: String, in section: String = "Service") -> [String] {
        entries.filter { $0.section == section && $0.key == key }.map(\.value)
    }

    func value(_ key: String, in section: String = "Service") -> String? { values(key, in: section).last }

    /// What systemd substitutes for this instance on this host, with `%C` (the cache root) moved.
    struct Specifiers {
        var instance = ""
        var host = ProcessInfo.processInfo.hostName
        var cacheRoot = "/var/cache"

        func expand(_ text: String) throws -> String {
            var result = ""
            var iterator = text.makeIterator()
            while let character = iterator.next() {
                guard character == "%" else { result.append(character); continue }
                switch iterator.next() {
                case "i": result += instance
                case "H": result += host
                case "C": result += cacheRoot
                case "%": result += "%"
                case let other: throw ProcessError("specifier %\(other.map(String.init) ?? "") in '\(text)' is not supported here")
                }
            }
            return result
        }
    }

    /// `ExecStart=` split into arguments, specifiers expanded.
    func execStart(_ specifiers: Specifiers) throws -> [String] {
        guard let line = value("ExecStart") else { throw ProcessError("\(path) has no ExecStart") }
        guard !line.contains("$"), !line.contains("\""), !"-@+!:".contains(line.first ?? " ") else {
            throw ProcessError("\(path): ExecStart '\(line)' uses syntax this test does not read")
        }
        return try line.split(separator: " ").map { try specifiers.expand(String($0)) }
    }

    /// The environment systemd gives the process: `Environment=` lines, then every `EnvironmentFile=`
    /// in order (later assignments win; a `-` prefix makes a missing file fine).
    func environment(_ specifiers: Specifiers) throws -> [String: String] {
        var environment: [String: String] = [:]
        for line in values("Environment") {
            for assignment in try Self.words(try specifiers.expand(line)) {
                let (key, value) = try Self.assignment(assignment, in: path)
                environment[key] = value
            }
        }
        for reference in values("EnvironmentFile") {
            let optional = reference.hasPrefix("-")
            let file = try specifiers.expand(optional ? String(reference.dropFirst()) : reference)
            guard FileManager.default.fileExists(atPath: file) else {
                if optional { continue }
                throw ProcessError("\(path): EnvironmentFile \(file) does not exist")
            }
            try environment.merge(Self.environmentFile(file)) { $1 }
        }
        return environment
    }

    /// `KEY=VALUE` lines of an environment file; `#`/`;` comments; one pair of surrounding quotes removed.
    static func environmentFile(_ file: String) throws -> [String: String] {
        var environment: [String: String] = [:]
        for raw in try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            let (key, value) = try assignment(line, in: file)
            environment[key] = value
        }
        return environment
    }

    private static func assignment(_ text: String, in file: String) throws -> (String, String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else { throw ProcessError("\(file): not KEY=VALUE: \(text)") }
        var value = String(text[text.index(after: equals)...])
        for quote in ["\"", "'"] where value.count >= 2 && value.hasPrefix(quote) && value.hasSuffix(quote) {
            value = String(value.dropFirst().dropLast())
        }
        return (String(text[..<equals]), value)
    }

    /// Space-separated words; double quotes group (and are removed).
    private static func words(_ text: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle(); continue }
            if character == " " && !quoted {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        guard !quoted else { throw ProcessError("unbalanced quotes in '\(text)'") }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// A systemd time span (`30s`, `2min`, `500ms`, `90`) in microseconds.
    static func microseconds(_ span: String) throws -> UInt64 {
        let units: [(String, UInt64)] = [("ms", 1_000), ("min", 60_000_000), ("s", 1_000_000), ("us", 1)]
        for (suffix, scale) in units where span.hasSuffix(suffix) {
            if let value = UInt64(span.dropLast(suffix.count)) { return value * scale }
        }
        guard let seconds = UInt64(span) else { throw ProcessError("time span '\(span)' is not supported here") }
        return seconds * 1_000_000
    }
}
