import NodalCore

/// A call of the store's, sent to a thread of its own. The store's serial lock is held while it
/// runs and the sender waits for its result, so the connection and the closure are used by one
/// thread at a time although neither is `Sendable`.
final class UnsafeJob<T>: @unchecked Sendable {
    private let connection: SQLiteConnection
    private let body: () throws -> T

    init(connection: SQLiteConnection, body: @escaping () throws -> T) {
        self.connection = connection
        self.body = body
    }

    /// Runs the call letting SQLite wait for other processes' locks, and answers `continuation`.
    func run(_ continuation: CheckedContinuation<UnsafeResult<T>, any Error>) {
        connection.waitsForLocks = true
        let result = Result { UnsafeResult(value: try body()) }
        connection.waitsForLocks = false
        continuation.resume(with: result)
    }
}

/// A call's result on its way back to the waiting caller (see `UnsafeJob`).
struct UnsafeResult<T>: @unchecked Sendable {
    let value: T
}
