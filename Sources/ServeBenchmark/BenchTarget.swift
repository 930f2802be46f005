/// The server under test: `http://HOST:PORT[/PREFIX]`. Requests go to `PREFIX/v1/completions` and
/// `PREFIX/v1/models`. Plain TCP only: TLS is terminated in front of the router, or measured with
/// another client.
public struct BenchTarget: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let basePath: String

    public init(url: String) throws(BenchError) {
        guard url.hasPrefix("http://") else {
            throw BenchError("--url '\(url)': expected http://HOST:PORT (plain HTTP/1.1; https is not supported by this client)")
        }
        var rest = Substring(url.dropFirst("http://".count))
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        for suffix in ["/v1/completions", "/v1", "/"] where path.hasSuffix(suffix) {
            path.removeLast(suffix.count)
            break
        }
        var host = String(rest)
        var port = 80
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else {
                throw BenchError("--url '\(url)': the port must be 1-65535")
            }
            port = number
            host = String(rest[..<colon])
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw BenchError("--url '\(url)': no host") }
        self.host = host
        self.port = port
        basePath = path
    }

    /// The `Host` header.
    public var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String { "http://\(authority)\(basePath)" }
}

/// A benchmark failure that stops the run, as one line.
public struct BenchError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
