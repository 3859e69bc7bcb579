import Synchronization

/// Async work awaited by a thread that must not return until it is done: a host service called
/// from a plugin's invoke (a C function, so it cannot await) that reads or writes an async store.
extension BlockingCallPool {
    /// Runs `operation` in a task and parks the calling thread until it returns.
    ///
    /// Where the task runs depends on the thread that waits. A thread outside Swift's concurrency
    /// (a pool thread, a plugin's own) lets the task run on the cooperative executor as usual. A
    /// thread that is running a task (a non-blocking node called inline on the scheduler's task)
    /// is one of the cooperative executor's few threads: the task then runs on this pool's
    /// threads instead, so that parking every cooperative thread this way cannot leave the task
    /// without a thread to run on.
    @available(*, noasync, message: "parks the calling thread; call it only from a plugin's thread")
    package func blockingWait<T: Sendable>(_ operation: @escaping @Sendable () async -> T) -> T {
        let box = WaitBox<T>()
        let body: @Sendable () async -> Void = {
            let value = await operation()
            box.value.withLock { $0 = value }
            box.done.signal()
        }
        if withUnsafeCurrentTask(body: { $0 != nil }) {
            Task(executorPreference: self, operation: body)
        } else {
            Task.detached(operation: body)
        }
        box.done.wait()
        return box.value.withLock { $0! }
    }
}

/// A value handed from the task to the waiting thread.
private final class WaitBox<T: Sendable>: Sendable {
    let value = Mutex<T?>(nil)
    let done = Semaphore()
}

/// This pool as a task executor: jobs of tasks that prefer it run on its threads (`blockingWait`).
extension BlockingCallPool: TaskExecutor {
    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        submit { job.runSynchronously(on: executor) }
    }
}
