public import NodalCore
public import ServiceLifecycle
import NodalJSON
import FoundationEssentials
import Synchronization

/// The run service: Stepflow's runs (one stored flow over a list of items, each item an ordinary
/// run of the engine with its own record and checkpoints) behind the `RunAPI` the HTTP server
/// calls, tracked in memory while they go and read back from the store after, so a restart loses
/// nothing (README: The run service).
///
/// As a swift-service-lifecycle `Service`, `run()` first picks up the runs a previous process left
/// going, then serves until graceful shutdown, when it refuses new runs, lets in-flight steps
/// finish for `ServiceLimits.drainTimeout` and stops: runs that did not end stay `running` in the
/// store, and the next start goes on with them. `shutdown()` does the same without a service group.
public final class RunService: RunAPI, Service {
    let engine: Engine
    let store: any ServiceRunStorage
    public let limits: ServiceLimits
    let grants: InputGrants
    /// What waits (`wait`, `timeoutSecs`) and the drain at shutdown are measured on.
    let clock: any Clock<Duration>
    /// Raised when shutdown begins: no item starts after it.
    let draining = CancellationToken()
    let state = Mutex(State())
    /// Flows read from their blobs, by id, so a run of a stored flow does not parse it again.
    let flows = FlowCache(capacity: 64)
    /// Makes the runs plugins submit from this service's runs runs of this service.
    let subRunHost = ServiceSubRuns()
    /// Raised once the runs a previous process left going are back in memory (or could not be),
    /// so a wait for one of them waits for the run and not only for its stored record.
    let recoveryFinished = OneTimeSignal()
    /// Event streams open now, against `limits.maxEventStreams`.
    let openEventStreams = Atomic<Int>(0)
    /// With `RunExecution.queued`: the store's work queue, which items go to instead of running here.
    let queue: (any WorkQueueStorage)?
    /// Queued runs waited for (`wait: true`), woken by the queue's notifications.
    let settleWatchers = SettleWatchers()
    /// The queue's notifications, for the workers in this process (`RunWorker`).
    let workEvents = WorkEventFanout()

    struct State {
        /// Runs in memory: every run not ended, and the last `finishedRunsKept` that ended.
        var runs: [String: LiveRun] = [:]
        /// The runs in `runs` that have not ended.
        var live: Set<String> = []
        /// Ended runs in memory, oldest first, from `finishedHead`.
        var finished: [String] = []
        var finishedHead = 0
        var shuttingDown = false
        /// Item work in flight (a run's window of items, a resumed item), for shutdown to wait on.
        var work: Set<Int> = []
        var idleWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWork = 0
        var recovered = false
        /// Whether the queue's notifications are being listened for (`startListening`), and by what.
        var listening = false
        var listener: Task<Void, Never>?
        /// Runs of the items the workers of this process hold, with how many items of each.
        var heldRuns: [String: (run: LiveRun, items: Int)] = [:]
        /// Of those, the ones with no item held, oldest first (`idleHeldRunsKept`).
        var idleHeldRuns: [String] = []
    }

    /// - Parameters:
    ///   - engine: runs the items; its plugins are the service's components.
    ///   - store: where runs, items, checkpoints and flows live; one of Nodal's stores (it must keep
    ///     service runs: `InMemoryRunStore`, `SQLiteRunStore`).
    ///   - limits: how much the service takes on (documented defaults).
    ///   - grants: which file inputs given by URI are read besides `data:` URIs.
    ///   - clock: what waits are measured on; tests pass one they advance.
    ///   - execution: where items run: here (`inProcess`), or on workers claiming them from the
    ///     store's work queue (`queued`, which needs a PostgreSQL store).
    public init(
        engine: Engine, store: any RunStore, limits: ServiceLimits = .default, grants: InputGrants = InputGrants(),
        clock: any Clock<Duration> = ContinuousClock(), execution: RunExecution = .inProcess
    ) throws {
        guard let serviceStore = store as? any ServiceRunStorage else {
            throw ServiceError(
                status: 500, code: "STORE_UNSUPPORTED",
                "the run service needs a store that keeps service runs (InMemoryRunStore or SQLiteRunStore), not \(type(of: store))")
        }
        switch execution {
        case .inProcess:
            queue = nil
        case .queued:
            guard let queue = store as? any WorkQueueStorage else {
                throw ServiceError(
                    status: 500, code: "STORE_UNSUPPORTED",
                    "queued runs and workers need a store that is a work queue (a PostgreSQL store, postgres://...), not \(type(of: store))")
            }
            self.queue = queue
        }
        self.engine = engine
        self.store = serviceStore
        self.limits = limits
        self.grants = grants
        self.clock = clock
        subRunHost.service = self
        engine.installSubRunHost(subRunHost)
    }

    // MARK: Service

    /// Recovers the runs a previous process left going, serves until graceful shutdown, then
    /// shuts down (`shutdown()`).
    public func run() async throws {
        startListening()
        await recover()
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Refuses new runs (503 `SHUTTING_DOWN`), lets the steps in flight finish and checkpoint for
    /// up to `drainTimeout`, cancels what is left and returns. Runs that did not end stay
    /// `running` in the store, for the next start to go on with. Calling it again does nothing.
    public func shutdown() async {
        let first = state.withLock { state -> Bool in
            defer { state.shuttingDown = true }
            return !state.shuttingDown
        }
        guard first else { return }
        draining.cancel()
        // Waits for a recovery that shutdown cuts short end too.
        recoveryFinished.signal()
        engine.uninstallSubRunHost(subRunHost)
        let drained = await waitForWork(upTo: limits.drainTimeout)
        if !drained {
            // What is still going after the drain is cancelled; its items stay unfinished in the
            // store (their checkpoints kept), so a restart resumes them.
            for run in state.withLock({ Array($0.runs.values) }) where run.status == .running { run.token.cancel() }
            _ = await waitForWork(upTo: nil)
        }
        for run in state.withLock({ Array($0.runs.values) }) { run.journal.finish() }
        settleWatchers.wakeAll()
        state.withLock { $0.listener }?.cancel()
    }

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    // MARK: Work

    /// Runs `body` as tracked work: shutdown waits for it.
    func track(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { current in
            let key = current.nextWork
            current.nextWork += 1
            current.work.insert(key)
            Task { [self] in
                await body()
                let idle = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                    state.work.remove(key)
                    guard state.work.isEmpty else { return [] }
                    defer { state.idleWaiters = [:] }
                    return Array(state.idleWaiters.values)
                }
                for waiter in idle { waiter.resume() }
            }
        }
    }

    /// Returns once no tracked work is left, or the task is cancelled.
    private func waitUntilIdle() async {
        let key = state.withLock { state in
            defer { state.nextWork += 1 }
            return state.nextWork
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.work.isEmpty || Task.isCancelled { return true }
                    state.idleWaiters[key] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.idleWaiters.removeValue(forKey: key) }?.resume()
        }
    }

    /// Waits until no tracked work is left, or `limit` passed on the service's clock. Returns
    /// whether the work all ended.
    private func waitForWork(upTo limit: Duration?) async -> Bool {
        guard let limit else {
            await waitUntilIdle()
            return true
        }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { [self] in
                await waitUntilIdle()
                return !Task.isCancelled
            }
            group.addTask { [clock] in
                try? await clock.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? true
            group.cancelAll()
            return first
        }
    }

    // MARK: Runs in memory

    func liveRun(_ id: String) -> LiveRun? { state.withLock { $0.runs[id] } }

    /// Runs not ended (running or paused): what `maxLiveRuns` bounds.
    var liveCount: Int { state.withLock { $0.live.count } }

    /// Keeps a new or recovered run in memory.
    func add(_ run: LiveRun) {
        state.withLock { state in
            state.runs[run.id] = run
            state.live.insert(run.id)
        }
    }

    /// An ended run stays in memory among the last `finishedRunsKept`; older ones are read back
    /// from the store from now on.
    func ended(_ run: LiveRun) {
        state.withLock { state in
            state.live.remove(run.id)
            state.finished.append(run.id)
            while state.finished.count - state.finishedHead > limits.finishedRunsKept {
                // Ended runs never go on again: from now on this one is read from the store.
                state.runs[state.finished[state.finishedHead]] = nil
                state.finishedHead += 1
            }
            if state.finishedHead > 1024, state.finishedHead * 2 > state.finished.count {
                state.finished.removeFirst(state.finishedHead)
                state.finishedHead = 0
            }
        }
    }

    func forget(_ id: String) {
        state.withLock { state in
            state.runs[id] = nil
            state.live.remove(id)
        }
    }

    /// 503 while shutting down.
    func refuseIfShuttingDown() throws(ServiceError) {
        if isShuttingDown {
            throw ServiceError(status: 503, code: "SHUTTING_DOWN", "the server is shutting down and takes no new runs; retry once it is back")
        }
    }
}
