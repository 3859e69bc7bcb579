import NodalJSON
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A dedicated pool of OS threads for plugin calls that may block.
///
/// Why not the cooperative pool or Dispatch: measured on these machines, blocking calls made from
/// Swift tasks stall every other task in the process (a 1 ms heartbeat stalled for 5 s), and a
/// concurrent DispatchQueue stalled it 630 ms. Threads of our own keep async work ticking.
///
/// Its threads start with `start()` and stop with `shutdown()` (the engine does both); jobs
/// submitted before `start()` wait for it.
package final class BlockingCallPool: Sendable {
    private struct State {
        /// A job returns true when its thread should retire (it stood in an abandoned call).
        var jobs: [@Sendable () -> Bool] = []
        var head = 0
        /// Threads started and not yet exited.
        var liveThreads = 0
        /// Threads stuck in an abandoned call: they exit when (if) the call returns.
        var stuckThreads = 0
        /// Threads waiting in `withCompensation` (a plugin waiting on a sub-run): each has, or gets
        /// when work comes, a thread in its place.
        var blockedThreads = 0
        var started = false
        var shuttingDown = false
        /// `awaitTermination` callers, resumed once every thread that is not stuck has exited.
        var terminationWaiters: [CheckedContinuation<Void, Never>] = []
        /// Set by `start()`: how many threads should be free to take jobs.
        var threadCount = 0

        var isTerminated: Bool { shuttingDown && liveThreads == stuckThreads }
        /// Threads able to take jobs, less how many there should be: negative while blocked threads
        /// still lack a replacement, positive once a blocked thread came back and its replacement
        /// is one too many.
        var surplus: Int { liveThreads - stuckThreads - blockedThreads - threadCount }
        var hasJobs: Bool { head < jobs.count }
    }

    private let state = ConditionLock(State())
    /// Jobs queued and not yet taken, readable without the lock (for the spinning thread).
    private let queued = Atomic<Int>(0)
    /// At most one idle thread spins (yielding the CPU) before parking: a chain of pooled calls
    /// hands its next job over within microseconds, and waking a parked thread costs more.
    private let spinning = Atomic<Bool>(false)
    package static let spinRounds = 200
    /// The most pool threads that may wait in `withCompensation` at once (each with a thread
    /// started in its place): 256 unless the pool was made with another.
    package let maxBlockedThreads: Int
    /// Threads waiting in `withCompensation` now.
    package var blockedThreadCount: Int { state.withLock { $0.blockedThreads } }
    package let threadCount: Int

    package init(threads: Int, maxBlockedThreads: Int = 256) {
        threadCount = max(1, threads)
        self.maxBlockedThreads = max(0, maxBlockedThreads)
    }

    /// Starts the threads. Calling it again, or after `shutdown()`, does nothing.
    package func start() {
        let starting = state.withLock { state -> Bool in
            guard !state.started, !state.shuttingDown else { return false }
            state.started = true
            state.threadCount = threadCount
            state.liveThreads += threadCount
            return true
        }
        guard starting else { return }
        for _ in 0..<threadCount { startThread() }
    }

    /// Runs `job` on one of the pool's threads, in submission order.
    package func submit(_ job: @escaping @Sendable () -> Void) {
        submitRetiring { job(); return false }
    }

    /// Like `submit`, but the thread exits after the job when it returns true: a call that was
    /// abandoned had a replacement thread started for it, so its own thread is one too many.
    ///
    /// After `shutdown()` the job still runs, on a thread started for it that exits once nothing
    /// is queued: a run that was in flight when its engine shut down (or was dropped), or one
    /// started afterwards, finishes instead of trapping or waiting for a thread that is gone.
    package func submitRetiring(_ job: @escaping @Sendable () -> Bool) {
        let extraThread = state.withLock { state -> Bool in
            state.jobs.append(job)
            queued.add(1, ordering: .releasing)
            // After shutdown, or while a blocked thread has no replacement yet (`withCompensation`).
            guard state.shuttingDown || (state.started && state.surplus < 0) else { return false }
            state.liveThreads += 1
            return true
        }
        if extraThread {
            startThread()
            return
        }
        // A spinning thread takes the job without being woken.
        if !spinning.load(ordering: .acquiring) { state.signal() }
    }

    /// A call on one of the pool's threads was abandoned (it overran its timeout or its run was
    /// canceled) and may never return: start a thread to take its place.
    package func replaceStuckThread() {
        let replacing = state.withLock { state -> Bool in
            state.stuckThreads += 1
            guard !state.shuttingDown else { return false }
            state.liveThreads += 1
            return true
        }
        if replacing { startThread() }
    }

    /// Runs `body`, which blocks the calling thread until other work of the process is done (a
    /// plugin waiting on a sub-run whose own calls need this pool): while it blocks, the pool
    /// counts the thread as gone and starts another in its place as soon as a job would lack one,
    /// so a pool of one thread waiting on itself does not deadlock. Once `body` returns, a thread
    /// started in its place retires when it next finds nothing to do.
    ///
    /// On a thread that is not one of this pool's (a thread a plugin started, a test), it only
    /// runs `body`: nothing of the pool waits there.
    ///
    /// Returns nil, without running `body`, when `maxBlockedThreads` threads of the pool wait
    /// already: each has a thread in its place, and a flow that fans out into waiting calls
    /// (a plugin submitting itself over two items, say) would otherwise start threads until
    /// `pthread_create` fails.
    @discardableResult
    package func withCompensation<T>(_ body: () throws -> T) rethrows -> T? {
        guard isPoolThread else { return try body() }
        var refused = false
        let replace = state.withLock { state -> Bool in
            guard state.blockedThreads < maxBlockedThreads else {
                refused = true
                return false
            }
            state.blockedThreads += 1
            // Work already queued gets its thread now; later work starts one in `submitRetiring`.
            guard state.hasJobs, !state.shuttingDown, state.surplus < 0 else { return false }
            state.liveThreads += 1
            return true
        }
        if replace { startThread() }
        if refused { return nil }
        defer {
            let wake = state.withLock { state -> Bool in
                state.blockedThreads -= 1
                return state.surplus > 0
            }
            // A parked thread wakes to retire (`takeJob`).
            if wake { state.broadcast() }
        }
        return try body()
    }

    /// Whether the calling thread is one of this pool's.
    package var isPoolThread: Bool {
        pthread_getspecific(Self.threadKey) == Unmanaged.passUnretained(self).toOpaque()
    }

    /// Each pool thread's pool, so `withCompensation` knows whose thread is blocking. Created once
    /// per process, never deleted.
    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()

    private func startThread() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let pool = Unmanaged<BlockingCallPool>.fromOpaque(argument!).takeRetainedValue()
            // Not retained: the thread holds `pool` until it returns.
            pthread_setspecific(BlockingCallPool.threadKey, argument)
            pool.work()
            pthread_setspecific(BlockingCallPool.threadKey, nil)
            return nil
        }, box)
        precondition(result == 0, "could not start a blocking-call pool thread: \(String(cString: strerror(result)))")
        // Threads are not joined: one stuck in a plugin may never return. `awaitTermination`
        // waits for the others through the pool's own count instead.
        let detached = pthread_detach(thread)
        precondition(detached == 0, "pthread_detach failed with error \(detached)")
    }

    private func work() {
        while true {
            if queued.load(ordering: .acquiring) == 0,
                spinning.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
            {
                var rounds = 0
                while queued.load(ordering: .acquiring) == 0 && rounds < Self.spinRounds {
                    sched_yield()
                    rounds += 1
                }
                spinning.store(false, ordering: .releasing)
            }
            // takeJob counted the thread out when it returned nil.
            guard let next = takeJob() else { return }
            // Jobs submitted while a thread spun woke nobody (the spinner takes only one): pass
            // the wake-up on, so that queued jobs never wait behind a blocking one while other
            // threads stay parked. Costs no system call when nobody is parked.
            if queued.load(ordering: .acquiring) > 0 { state.signal() }
            if next() {
                exitThread(retiringFromStuckCall: true)
                return
            }
        }
    }

    /// The next job, parking until there is one; nil (the thread is counted out: it must exit)
    /// once the pool shuts down with nothing queued, or when the thread is one too many because a
    /// thread it stood in for came back (`withCompensation`).
    private func takeJob() -> (@Sendable () -> Bool)? {
        let (job, waiters) = state.withLock(whenReady: { $0.hasJobs || $0.shuttingDown || $0.surplus > 0 }) { state -> ((@Sendable () -> Bool)?, [CheckedContinuation<Void, Never>]) in
            guard state.head < state.jobs.count else { return (nil, leave(&state, retiringFromStuckCall: false)) }
            let job = state.jobs[state.head]
            state.head += 1
            queued.subtract(1, ordering: .relaxed)
            if state.head > 1024 && state.head * 2 > state.jobs.count {
                state.jobs.removeFirst(state.head)
                state.head = 0
            }
            return (job, [])
        }
        for waiter in waiters { waiter.resume() }
        return job
    }

    private func exitThread(retiringFromStuckCall: Bool) {
        let waiters = state.withLock { leave(&$0, retiringFromStuckCall: retiringFromStuckCall) }
        for waiter in waiters { waiter.resume() }
    }

    /// Counts an exiting thread out (under the lock, so two threads never both retire for one
    /// surplus); returns the `awaitTermination` callers to resume.
    private func leave(_ state: inout State, retiringFromStuckCall: Bool) -> [CheckedContinuation<Void, Never>] {
        state.liveThreads -= 1
        if retiringFromStuckCall { state.stuckThreads -= 1 }
        guard state.isTerminated else { return [] }
        defer { state.terminationWaiters.removeAll() }
        return state.terminationWaiters
    }

    /// Lets the threads finish queued work and exit; a job submitted afterwards gets a thread of
    /// its own (see `submitRetiring`). Returns at once (see `awaitTermination`).
    package func shutdown() {
        state.withLock { $0.shuttingDown = true }
        state.broadcast()
    }

    /// Waits, without holding a thread, until every thread has exited after `shutdown()`, except
    /// those stuck in abandoned calls (they exit if their call ever returns).
    package func awaitTermination() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.isTerminated { return true }
                state.terminationWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Threads that are running (for tests): started, not yet exited.
    package var liveThreads: Int { state.withLock { $0.liveThreads } }

    /// Default size: enough threads that a few sleeping plugins don't hold up the rest.
    package static var defaultThreadCount: Int {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(4, 2 * cores)
    }
}

/// Serializes calls to a node that is not thread-safe without parking pool threads: calls queue
/// here and one pool thread drains them in order.
package final class SerialGate: Sendable {
    private struct State {
        var busy = false
        var waiting: [@Sendable () -> Bool] = []
        var head = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// For pool calls: runs `job` on `pool` once no other call of this node is running.
    package func submit(_ job: @escaping @Sendable () -> Bool, on pool: BlockingCallPool) {
        let runNow = state.withLock { state -> Bool in
            if state.busy {
                state.waiting.append(job)
                return false
            }
            state.busy = true
            return true
        }
        if runNow { pool.submitRetiring { self.drain(startingWith: job) } }
    }

    /// For inline calls (non-blocking nodes): runs `body` now, waiting out any running call.
    package func runInline<T>(_ body: () -> T) -> T {
        while !state.withLock({ state -> Bool in
            if state.busy { return false }
            state.busy = true
            return true
        }) {
            sched_yield()
        }
        // A node is either non-blocking (always inline) or not (always pooled), so nothing
        // queues behind an inline call.
        defer { state.withLock { $0.busy = false } }
        return body()
    }

    /// Runs queued calls in order; returns true if the thread should retire (see `submitRetiring`).
    private func drain(startingWith first: @escaping @Sendable () -> Bool) -> Bool {
        var job: (@Sendable () -> Bool)? = first
        var retire = false
        while let current = job {
            if current() { retire = true }
            job = state.withLock { state -> (@Sendable () -> Bool)? in
                guard state.head < state.waiting.count else {
                    state.busy = false
                    state.waiting.removeAll()
                    state.head = 0
                    return nil
                }
                let next = state.waiting[state.head]
                state.head += 1
                return next
            }
        }
        return retire
    }
}
