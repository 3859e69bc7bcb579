package import NodalCore
import NodalJSON
package import FoundationEssentials
import Logging
import Synchronization

/// A run just started: in memory, its items running here, or queued for workers.
enum StartedRun: Sendable {
    case live(LiveRun)
    case queued(ServiceRunRecord)

    var id: String {
        switch self {
        case .live(let run): run.id
        case .queued(let record): record.id
        }
    }

    var header: RunHeader {
        switch self {
        case .live(let run): run.header
        case .queued(let record): RunHeader(record)
        }
    }
}

/// The run service with `RunExecution.queued`: runs go to the store's work queue, workers run
/// their items and settle them there, and this service reads them back from the store, woken by
/// the queue's notifications (README: Scale-out on PostgreSQL).
extension RunService {
    /// How often a wait for a queued run reads its status again even without a notification
    /// (one may be lost while the listening connection reconnects).
    static let queuedStatusPoll: Duration = .seconds(2)

    /// Starts `plan`: here, or, with a queue, by queueing its items.
    func begin(_ plan: RunPlan) async throws(ServiceError) -> StartedRun {
        guard let queue else { return .live(try await start(plan)) }
        try refuseIfShuttingDown()
        let record = newRun(plan).record(lastSequence: nil)
        do {
            try await queue.putQueuedServiceRun(record, queuedAt: Date())
        } catch {
            throw Self.storeFailed("queue the new run", error)
        }
        return .queued(record)
    }

    /// Listens for the queue's notifications (once per service; nothing without a queue): they
    /// wake waits for queued runs and reach the workers in this process.
    func startListening() {
        guard let queue else { return }
        let start = state.withLock { state -> Bool in
            defer { state.listening = true }
            return !state.listening && !state.shuttingDown
        }
        guard start else { return }
        let notifications = queue.workNotifications()
        let task = Task { [weak self] in
            for await notification in notifications {
                guard let self else { return }
                switch notification {
                case .runSettled(let id): settleWatchers.wake(id)
                case .reconnected: settleWatchers.wakeAll()
                case .workQueued, .runCanceled: break
                }
                workEvents.publish(notification)
            }
        }
        state.withLock { $0.listener = task }
    }

    /// Returns once the queued run is no longer running (ended or paused), `timeout` passed on the
    /// service's clock, or the service shuts down.
    func settledQueued(_ runID: String, within timeout: Duration) async {
        startListening()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                while !Task.isCancelled && !isShuttingDown {
                    let (key, signal) = settleWatchers.watch(runID)
                    // Read after watching: a notification in between still raises the signal.
                    do {
                        // Ended or paused; or deleted (or never there): nothing to wait for.
                        if try await store.serviceRun(id: runID)?.status ?? .success != .running {
                            settleWatchers.unwatch(runID, key: key)
                            return
                        }
                    } catch {
                        // The store did not answer: try again at the next poll.
                    }
                    await withTaskGroup(of: Void.self) { inner in
                        inner.addTask { await signal.wait() }
                        inner.addTask { try? await Task.sleep(for: Self.queuedStatusPoll) }
                        await inner.next()
                        inner.cancelAll()
                    }
                    settleWatchers.unwatch(runID, key: key)
                }
            }
            group.addTask { [clock] in try? await clock.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Cancels a queued run: what nobody runs ends now, and the workers running its items are told
    /// to stop them. Waits up to the drain timeout for them to, as a cancel here does.
    func cancelQueued(_ record: ServiceRunRecord) async throws(ServiceError) -> JSON {
        guard let queue else { throw ServiceError(status: 500, code: "INTERNAL", "run \(record.id) is not a queued run") }
        do {
            _ = try await queue.cancelQueuedRun(id: record.id, now: Date().roundedForStore)
        } catch {
            throw Self.storeFailed("cancel run \(record.id)", error)
        }
        await settledQueued(record.id, within: limits.drainTimeout)
        return ["summary": RunShapes.summary(try await view(of: try await findRun(record.id), itemsToo: false).header)]
    }

    // MARK: Runs of items workers here hold

    /// Counts one more item of `runID` held by a worker of this process, and returns the run: the
    /// one already held, else `loaded` (nil when nothing is held and nothing was loaded).
    func holdRun(_ runID: String, loaded: LiveRun?) -> LiveRun? {
        state.withLock { state in
            if let entry = state.heldRuns[runID] {
                state.heldRuns[runID]?.items += 1
                state.idleHeldRuns.removeAll { $0 == runID }
                return entry.run
            }
            guard let loaded else { return nil }
            state.heldRuns[runID] = (loaded, 1)
            return loaded
        }
    }

    /// Runs no item of which is held stay for the next item a worker claims (a run's items come in
    /// one after another; reading its request again for each would cost what the request weighs),
    /// the last `idleHeldRunsKept` of them.
    static let idleHeldRunsKept = 16

    func letGoRun(_ runID: String) {
        state.withLock { state in
            guard let entry = state.heldRuns[runID] else { return }
            guard entry.items <= 1 else {
                state.heldRuns[runID]?.items -= 1
                return
            }
            state.heldRuns[runID]?.items = 0
            state.idleHeldRuns.append(runID)
            while state.idleHeldRuns.count > Self.idleHeldRunsKept {
                state.heldRuns[state.idleHeldRuns.removeFirst()] = nil
            }
        }
    }

    /// The run of an item a worker of this process holds (its steps' sub-runs sit under it).
    func heldRun(_ runID: String) -> LiveRun? { state.withLock { $0.heldRuns[runID]?.run } }

    /// The workers heard from within their lease, for `GET /health`.
    func liveWorkers() async -> [WorkerRecord]? {
        guard let queue else { return nil }
        let now = Date()
        return try? await queue.workers(since: now.addingTimeInterval(-3600)).filter { $0.isLive(at: now) }
    }
}

extension RunService {
    /// The workers of `store`'s queue heard from since `since` (`nodal workers list`).
    package static func workers(in store: any RunStore, since: Date) async throws -> [WorkerRecord] {
        guard let queue = store as? any WorkQueueStorage else {
            throw ServiceError(status: 500, code: "STORE_UNSUPPORTED", "the store \(type(of: store)) has no work queue (a PostgreSQL store has)")
        }
        return try await queue.workers(since: since)
    }
}
