import NodalJSON
/// A counting semaphore for handing a value from a task to a waiting thread (no Dispatch in the
/// library). Built on `ConditionLock`.
final class Semaphore: Sendable {
    private let count = ConditionLock(0)

    init() {}

    /// Adds one to the count, waking a waiting thread.
    func signal() {
        count.withLock { $0 += 1 }
        count.signal()
    }

    /// Parks the calling thread until the count is above zero, then takes one from it.
    @available(*, noasync, message: "parks the calling thread; call it only from threads of your own")
    func wait() {
        count.withLock(whenReady: { $0 > 0 }) { $0 -= 1 }
    }
}
