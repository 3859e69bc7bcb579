/// Runs work that may never answer (a query to a server that died, a pool that keeps reconnecting)
/// with a limit on how long the caller waits for it.
enum Deadline {
    /// The limit passed first.
    struct Passed: Error {
        let limit: Duration
    }

    /// `body`'s value, or `Passed` once `limit` passed first. On the limit the body is cancelled
    /// and waited for: postgres-nio then stops waiting for a connection from the pool (what hangs
    /// while the server is down), and fails the query it was sending.
    static func race<T: Sendable>(_ body: @Sendable () async throws -> T, within limit: Duration) async throws -> T {
        try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else { throw Passed(limit: limit) }
                return value
            }
        }
    }
}
