import Synchronization

/// Where Swift nodes wait until the test opens it: a step that runs as long as the test wants,
/// without sleeping. A waiting node whose task is cancelled (its run was) leaves with
/// `CancellationError`, so cancelling a held run does not hang.
final class Gate: Sendable {
    private struct State {
        var open = false
        var entered = 0
        var next = 0
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func pass() async throws {
        let key = state.withLock { state in
            defer { state.next += 1 }
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (result, ready) = state.withLock { state -> (Result<Void, any Error>?, [CheckedContinuation<Void, Never>]) in
                    state.entered += 1
                    let ready = state.watchers.filter { $0.count <= state.entered }.map(\.continuation)
                    state.watchers.removeAll { $0.count <= state.entered }
                    if Task.isCancelled { return (.failure(CancellationError()), ready) }
                    if state.open { return (.success(()), ready) }
                    state.waiters[key] = continuation
                    return (nil, ready)
                }
                for watcher in ready { watcher.resume() }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: key) }?.resume(throwing: CancellationError())
        }
    }

    /// Returns once `count` calls have reached the gate.
    func waitUntilEntered(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.entered >= count { return true }
                state.watchers.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
