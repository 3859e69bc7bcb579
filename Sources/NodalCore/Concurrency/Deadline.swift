import Synchronization

/// Runs work that may never answer (a query to a server that died, a pool that keeps reconnecting)
/// with a limit on how long the caller waits for it.
package enum Deadline {
    /// The limit passed first.
    package struct Passed: Error, CustomStringConvertible {
        package let limit: Duration
        package var description: String { "no answer within \(limit)" }
    }

    /// `body`'s value, or `Passed` once `limit` passed first. On the limit the body is cancelled
    /// and waited for: postgres-nio then stops waiting for a connection from the pool (what hangs
    /// while the server is down), and fails the query it was sending.
    package static func race<T: Sendable>(_ body: @Sendable () async throws -> T, within limit: Duration) async throws -> T {
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

extension Deadline {
    /// `body`'s value, or `Passed` once `limit` passed first, without waiting for a body that does
    /// not heed cancellation: on the limit the body is cancelled and left to end on its own. For
    /// work that can hang past cancellation (a query sent on a connection that will never answer);
    /// the body must be safe to let finish later, unobserved.
    package static func abandoning<T: Sendable>(_ body: @escaping @Sendable () async throws -> T, within limit: Duration) async throws -> T {
        let race = AbandoningRace<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                race.continuation.withLock { $0 = continuation }
                // The timer first, so the work, however quick, finds it to cancel.
                let clock = Task {
                    do { try await Task.sleep(for: limit) } catch { return }
                    race.finish(.failure(Passed(limit: limit)))
                    race.work.withLock { $0 }?.cancel()
                }
                let task = Task {
                    do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                    clock.cancel()
                }
                race.work.withLock { $0 = task }
                // Cancelled before the work existed for the handler to cancel.
                if Task.isCancelled { task.cancel() }
            }
        } onCancel: {
            race.work.withLock { $0 }?.cancel()
        }
    }
}

/// The shared state of one `Deadline.abandoning`: who answers first resumes the caller.
private final class AbandoningRace<T: Sendable>: Sendable {
    let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let work = Mutex<Task<Void, Never>?>(nil)

    func finish(_ result: Result<T, any Error>) {
        continuation.withLock { continuation in
            defer { continuation = nil }
            return continuation
        }?.resume(with: result)
    }
}
