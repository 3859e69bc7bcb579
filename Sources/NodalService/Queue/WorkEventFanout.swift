import NodalCore
import Synchronization

/// Hands the queue's notifications, received once per process by the run service, to the workers
/// in the process.
package final class WorkEventFanout: Sendable {
    private struct State {
        var handlers: [Int: @Sendable (WorkNotification) -> Void] = [:]
        var next = 0
    }

    private let state = Mutex(State())

    /// `handler` is called, on the listener's task, for every notification until `unsubscribe`.
    func subscribe(_ handler: @escaping @Sendable (WorkNotification) -> Void) -> Int {
        state.withLock { state in
            defer { state.next += 1 }
            state.handlers[state.next] = handler
            return state.next
        }
    }

    func unsubscribe(_ key: Int) {
        _ = state.withLock { $0.handlers.removeValue(forKey: key) }
    }

    func publish(_ notification: WorkNotification) {
        for handler in state.withLock({ Array($0.handlers.values) }) { handler(notification) }
    }
}
