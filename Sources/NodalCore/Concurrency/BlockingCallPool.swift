import NodalJSON
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A dedicated pool of OS threads for plugin calls that may block.
///
/// Why not the cooperative pool or Dispatch: measured on these machines, blocking calls made from
/// Swift tasks stall every other task in the process (a 1 ms heartbeat stalled for 5 s), and a
/// concurrent DispatchQueue stalled it 630 ms. Threads of our own keep async work ticking.
final class BlockingCallPool: @unchecked Sendable {
    // Guarded by `mutex`; `@unchecked Sendable` because the pthread primitives do the locking.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// A job returns true when its thread should retire (it stood in an abandoned call).
    private var jobs: [@Sendable () -> Bool] = []
    private var head = 0
    private var idleThreads = 0
    private var shuttingDown = false
    /// Jobs queued and not yet taken, readable without the lock (for the spinning thread).
    private let queued = Atomic<Int>(0)
    /// At most one idle thread spins (yielding the CPU) before parking: a chain of pooled calls
    /// hands its next job over within microseconds, and waking a parked thread costs more.
    private let spinning = Atomic<Bool>(false)
    static let spinRounds = 200
    let threadCount: Int

    init(threads: Int) {
        threadCount = max(1, threads)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        for index in 0..<threadCount { startThread(index) }
    }

    /// Runs `job` on one of the pool's threads, in submission order.
    func submit(_ job: @escaping @Sendable () -> Void) {
        submitRetiring { job(); return false }
    }

    /// Like `submit`, but the thread exits after the job when it returns true: a call that was
    /// abandoned had a replacement thread started for it, so its own thread is one too many.
    func submitRetiring(_ job: @escaping @Sendable () -> Bool) {
        pthread_mutex_lock(mutex)
        jobs.append(job)
        queued.add(1, ordering: .releasing)
        if idleThreads > 0 && !spinning.load(ordering: .acquiring) { pthread_cond_signal(condition) }
        pthread_mutex_unlock(mutex)
    }

    private func startThread(_ index: Int) {
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { argument in
            let pool = Unmanaged<BlockingCallPool>.fromOpaque(argument!).takeRetainedValue()
            pool.work()
            return nil
        }, box)
        precondition(result == 0, "could not start a blocking-call pool thread: \(String(cString: strerror(result)))")
        pthread_detach(thread)
    }

    /// A call on one of the pool's threads was abandoned (it overran its timeout or its run was
    /// canceled) and may never return: start a thread to take its place.
    func replaceStuckThread() {
        startThread(-1)
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
            pthread_mutex_lock(mutex)
            while head == jobs.count && !shuttingDown {
                idleThreads += 1
                pthread_cond_wait(condition, mutex)
                idleThreads -= 1
            }
            if head == jobs.count && shuttingDown {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = jobs[head]
            head += 1
            queued.subtract(1, ordering: .relaxed)
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            pthread_mutex_unlock(mutex)
            if job() { return }
        }
    }

    /// Lets the threads finish queued work and exit. The pool is not usable afterwards.
    func shutdown() {
        pthread_mutex_lock(mutex)
        shuttingDown = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Default size: enough threads that a few sleeping plugins don't hold up the rest.
    static var defaultThreadCount: Int {
        let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(4, 2 * cores)
    }
}

/// Serializes calls to a node that is not thread-safe without parking pool threads: calls queue
/// here and one pool thread drains them in order.
final class SerialGate: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var busy = false
    private var waiting: [@Sendable () -> Bool] = []

    init() { pthread_mutex_init(mutex, nil) }

    /// For pool calls: runs `job` on `pool` once no other call of this node is running.
    func submit(_ job: @escaping @Sendable () -> Bool, on pool: BlockingCallPool) {
        pthread_mutex_lock(mutex)
        if busy {
            waiting.append(job)
            pthread_mutex_unlock(mutex)
            return
        }
        busy = true
        pthread_mutex_unlock(mutex)
        pool.submitRetiring { self.drain(startingWith: job) }
    }

    /// For inline calls (non-blocking nodes): runs `body` now, waiting out any running call.
    func runInline<T>(_ body: () -> T) -> T {
        while true {
            pthread_mutex_lock(mutex)
            if !busy {
                busy = true
                pthread_mutex_unlock(mutex)
                break
            }
            pthread_mutex_unlock(mutex)
            sched_yield()
        }
        defer { release() }
        return body()
    }

    private func release() {
        // A node is either non-blocking (always inline) or not (always pooled), so nothing
        // queues behind an inline call.
        pthread_mutex_lock(mutex)
        busy = false
        pthread_mutex_unlock(mutex)
    }

    /// Runs queued calls in order; returns true if the thread should retire (see `submitRetiring`).
    private func drain(startingWith first: @escaping @Sendable () -> Bool) -> Bool {
        var job: (@Sendable () -> Bool)? = first
        var retire = false
        while let current = job {
            if current() { retire = true }
            pthread_mutex_lock(mutex)
            if waiting.isEmpty {
                busy = false
                job = nil
            } else {
                job = waiting.removeFirst()
            }
            pthread_mutex_unlock(mutex)
        }
        return retire
    }
}
