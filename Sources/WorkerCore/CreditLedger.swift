/// How the engine's room is shared between router connections: the worker never promises more
/// assignments than it can hold, counting requests in flight and credits not yet used on any connection.
public enum CreditLedger {
    /// Room not yet promised: `capacity − inFlight − Σ outstanding credits`, never negative.
    public static func freeRoom(capacity: Int, inFlight: Int, outstandingCredits: [Int]) -> Int {
        max(0, capacity - inFlight - outstandingCredits.reduce(0, +))
    }

    /// Splits `free` credits over connections holding `holdings` credits each: one at a time to the
    /// connection holding fewest (the earliest on ties), so routers get an even share of the room.
    /// - Returns: the grant per connection, in the order of `holdings`.
    public static func distribute(free: Int, holdings: [Int]) -> [Int] {
        guard !holdings.isEmpty, free > 0 else { return Array(repeating: 0, count: holdings.count) }
        var current = holdings
        var grants = Array(repeating: 0, count: holdings.count)
        for _ in 0..<free {
            var target = 0
            for index in current.indices where current[index] < current[target] { target = index }
            current[target] += 1
            grants[target] += 1
        }
        return grants
    }
}
