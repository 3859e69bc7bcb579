import Synchronization

/// Decides, once, whether a pooled call finished or was abandoned first. A call that can be
/// stopped from outside when abandoned (one in a plugin host child: the child is killed) says how
/// with `onAbandon`.
final class PooledCallState: Sendable {
    private let state = Atomic<UInt8>(0)  // 0 running, 1 finished, 2 abandoned
    private let abandonHandler = Mutex<(@Sendable () -> Void)?>(nil)

    /// Called by the pool thread after the plugin returned; false if the call had been abandoned.
    func finish() -> Bool { state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged }

    /// Called by the scheduler; false if the call had already finished. Runs the `onAbandon`
    /// handler when there is one.
    func abandon() -> Bool {
        guard state.compareExchange(expected: 0, desired: 2, ordering: .sequentiallyConsistent).exchanged else { return false }
        abandonHandler.withLock { $0 }?()
        return true
    }

    var isAbandoned: Bool { state.load(ordering: .sequentiallyConsistent) == 2 }

    /// What abandoning the call should do besides giving up on it; run at once if the call was
    /// abandoned already.
    func onAbandon(_ handler: @escaping @Sendable () -> Void) {
        abandonHandler.withLock { $0 = handler }
        if state.load(ordering: .acquiring) == 2 { handler() }
    }
}
