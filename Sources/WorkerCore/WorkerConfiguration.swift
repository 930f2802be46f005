import Foundation
public import NIOCore
public import Wire

/// Everything a worker needs besides its model: where the routers are, who it is, how it proves it,
/// and the timing of heartbeats and reconnects.
public struct WorkerConfiguration: Sendable {
    /// Routers to serve, one connection each.
    public var routers: [RouterAddress]
    /// The name the worker authenticates with (1-128 bytes of UTF-8).
    public var name: String
    /// The shared token's proof machinery.
    public var proof: HandshakeProof
    /// Most requests the engine holds at once (running + waiting); the credits of all connections
    /// together never exceed it.
    public var capacity: Int
    /// Send a heartbeat after this long without sending anything.
    public var heartbeatInterval: TimeAmount
    /// Give a connection up after this long without receiving anything (the handshake included).
    public var heartbeatTimeout: TimeAmount
    /// Reconnect delays: the first retry waits `base`, each further one twice as long, up to `max`.
    public var backoff: Backoff
    /// Diagnostic (`SPECULA_WIRE_CAPTURE`): record the frames each connection sends. Nil: off.
    public var capture: WireCaptureDestination?
    /// Diagnostic (`SPECULA_WIRE_TIMING=1`): time every `tokens` frame from the engine's event to the
    /// socket, and the event loop's CPU per token, logged when the worker exits. Off: no cost.
    public var timesWire: Bool

    public init(routers: [RouterAddress], name: String, proof: HandshakeProof, capacity: Int,
                heartbeatInterval: TimeAmount = .seconds(5), heartbeatTimeout: TimeAmount = .seconds(15),
                backoff: Backoff = Backoff(), capture: WireCaptureDestination? = nil, timesWire: Bool = false) {
        self.routers = routers
        self.name = name
        self.proof = proof
        self.capacity = capacity
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatTimeout = heartbeatTimeout
        self.backoff = backoff
        self.capture = capture
        self.timesWire = timesWire
    }
}

/// One router's worker endpoint, `HOST:PORT`.
public struct RouterAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT[,HOST:PORT...]`; `[v6]:port` is accepted for IPv6 hosts.
    public static func parseList(_ text: String) throws -> [RouterAddress] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !parts.isEmpty, !parts.contains(where: \.isEmpty) else {
            throw WorkerError("--router '\(text)': expected HOST:PORT[,HOST:PORT...]")
        }
        return try parts.map(parse)
    }

    public static func parse(_ text: String) throws -> RouterAddress {
        guard let colon = text.lastIndex(of: ":") else {
            throw WorkerError("router address '\(text)' has no port; expected HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw WorkerError("router address '\(text)': expected HOST:PORT with a port in 1-65535")
        }
        return RouterAddress(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The worker's shared token: from a file (first line, trimmed) or the `SPECULA_WORKER_TOKEN`
/// environment variable. There is no unauthenticated mode: the protocol always proves the token.
public enum WorkerToken {
    public static let environmentVariable = "SPECULA_WORKER_TOKEN"

    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> HandshakeProof {
        let token: String
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw WorkerError("--worker-token-file '\(file)' cannot be read")
            }
            let firstLine = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
            token = firstLine.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw WorkerError("--worker-token-file '\(file)': the first line is empty; expected the shared token") }
        } else if let value = environment[environmentVariable]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
            token = value
        } else {
            throw WorkerError("no worker token: give --worker-token-file FILE (first line: the router's shared token, >= 16 bytes) or set \(environmentVariable)")
        }
        do {
            return try HandshakeProof(token: Array(token.utf8))
        } catch {
            throw WorkerError("worker token: \(error.message)")
        }
    }
}

/// A worker failure with a one-line message.
public struct WorkerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
