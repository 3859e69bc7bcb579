import Synchronization

/// Waits for queued runs to settle, by run id: a waiter registers before it reads the run's status,
/// so a notification that comes in between still wakes it.
final class SettleWatchers: Sendable {
    private struct State {
        var watching: [String: [Int: OneTimeSignal]] = [:]
        var next = 0
    }

    private let state = Mutex(State())

    /// Starts watching `runID`: the signal is raised by the next `wake(runID)` or `wakeAll()`.
    func watch(_ runID: String) -> (key: Int, signal: OneTimeSignal) {
        let signal = OneTimeSignal()
        let key = state.withLock { state in
            defer { state.next += 1 }
            state.watching[runID, default: [:]][state.next] = signal
            return state.next
        }
        return (key, signal)
    }

    func unwatch(_ runID: String, key: Int) {
        state.withLock { state in
            state.watching[runID]?.removeValue(forKey: key)
            if state.watching[runID]?.isEmpty == true { state.watching[runID] = nil }
        }
    }

    /// The run settled (or may have: a notification named it).
    func wake(_ runID: String) {
        for signal in state.withLock({ $0.watching.removeValue(forKey: runID) ?? [:] }).values { signal.signal() }
    }

    /// Anything may have happened (the listening connection was lost, the service shuts down).
    func wakeAll() {
        let all = state.withLock { state in
            defer { state.watching = [:] }
            return state.watching.values.flatMap(\.values)
        }
        for signal in all { signal.signal() }
    }
}
