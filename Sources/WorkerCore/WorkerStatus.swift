/// The worker as a supervisor sees it.
public struct WorkerStatus: Sendable, Equatable, CustomStringConvertible {
    /// Routers that accepted the worker's registration and may assign work.
    public var registeredRouters: Int
    /// Routers the worker was told to serve.
    public var routers: Int
    /// Requests held (being tokenized, waiting or running).
    public var inFlight: Int
    /// SIGTERM (or a drain request) came: nothing new is taken.
    public var draining: Bool

    public init(registeredRouters: Int, routers: Int, inFlight: Int, draining: Bool) {
        self.registeredRouters = registeredRouters
        self.routers = routers
        self.inFlight = inFlight
        self.draining = draining
    }

    /// One line for `systemctl status`.
    public var description: String {
        if draining { return "draining: \(inFlight) requests in flight" }
        if registeredRouters == 0 { return "connecting to \(routers == 1 ? "the router" : "\(routers) routers")" }
        return "serving: registered with \(registeredRouters) of \(routers) routers"
    }
}
