import NodalJSON
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a mutex, with a condition variable to wait for the value to change.
///
/// For the few places that must park an OS thread until something happens (the blocking-call
/// pool's idle threads, `Engine.runSync`'s caller); everything else uses `Synchronization.Mutex`.
/// In the style of swift-nio's `NIOLock` and `ConditionLock`: the pthread storage is allocated
/// once, never moves, and is destroyed and freed in `deinit`; every pthread call's result is
/// checked.
package final class ConditionLock<Value>: @unchecked Sendable {
    // @unchecked: `value` is only read or written with `mutex` held, which is what makes it safe
    // to share; the pointers themselves never change.
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Threads parked in `withLock(whenReady:_:)`; raised and lowered with the mutex held, read
    /// by `signal()` so that waking nobody costs no system call.
    private let waiting = Atomic<Int>(0)

    package init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_mutexattr_t()
        Self.check(pthread_mutexattr_init(&attributes), "pthread_mutexattr_init")
        #if DEBUG
        // Locking twice from one thread, or unlocking from another, traps in debug builds.
        Self.check(pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ERRORCHECK)), "pthread_mutexattr_settype")
        #endif
        Self.check(pthread_mutex_init(mutex, &attributes), "pthread_mutex_init")
        Self.check(pthread_mutexattr_destroy(&attributes), "pthread_mutexattr_destroy")
        Self.check(pthread_cond_init(condition, nil), "pthread_cond_init")
    }

    deinit {
        Self.check(pthread_cond_destroy(condition), "pthread_cond_destroy")
        Self.check(pthread_mutex_destroy(mutex), "pthread_mutex_destroy")
        condition.deinitialize(count: 1)
        condition.deallocate()
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the value, the mutex held. Does not wait for anything but the mutex.
    package func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body(&value)
    }

    /// Parks the calling thread until `isReady` holds for the value, then runs `body` with the
    /// mutex still held. Blocks an OS thread: never call it from a Swift task.
    @available(*, noasync, message: "parks the calling thread; call it only from threads of your own")
    package func withLock<T>(whenReady isReady: (Value) -> Bool, _ body: (inout Value) throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        while !isReady(value) {
            waiting.add(1, ordering: .relaxed)
            Self.check(pthread_cond_wait(condition, mutex), "pthread_cond_wait")
            waiting.subtract(1, ordering: .relaxed)
        }
        return try body(&value)
    }

    /// Wakes one thread waiting in `withLock(whenReady:_:)` (it re-checks its condition). Call
    /// it after changing the value; with nobody waiting it makes no system call. (A waiter counts
    /// itself with the mutex held before it parks, so one that saw the old value is counted by
    /// the time the change's `withLock` returns.)
    package func signal() {
        guard waiting.load(ordering: .relaxed) > 0 else { return }
        Self.check(pthread_cond_signal(condition), "pthread_cond_signal")
    }

    /// Wakes every waiting thread.
    package func broadcast() {
        guard waiting.load(ordering: .relaxed) > 0 else { return }
        Self.check(pthread_cond_broadcast(condition), "pthread_cond_broadcast")
    }

    private func lock() {
        Self.check(pthread_mutex_lock(mutex), "pthread_mutex_lock")
    }

    private func unlock() {
        Self.check(pthread_mutex_unlock(mutex), "pthread_mutex_unlock")
    }

    private static func check(_ result: Int32, _ function: StaticString) {
        precondition(result == 0, "\(function) failed with error \(result)")
    }
}
