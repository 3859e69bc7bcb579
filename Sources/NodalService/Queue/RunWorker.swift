import NodalCore
public import ServiceLifecycle
import NodalJSON
import FoundationEssentials
import Logging
import Synchronization

/// A worker of the work queue (`nodal worker`, `nodal serve --workers N`): claims queued items
/// from the store, runs them with its service's engine (checkpointing every step in the store), and
/// records how they ended, which settles their runs. Several workers in any number of processes and
/// machines share one queue; no item is claimed by two at once.
///
/// The worker holds each item under a lease it renews on a heartbeat. If it dies (kill -9, a lost
/// machine) or cannot reach the store for longer than the lease, the lease expires and another
/// worker takes the item and goes on from its checkpoints: steps that had checkpointed do not run
/// again; a step that was running when the worker died runs again (at-least-once for steps in
/// flight). Cancelling a run reaches the worker through a notification, and its heartbeat as a
/// fallback.
///
/// As a swift-service-lifecycle `Service`: on graceful shutdown (SIGTERM) it stops claiming, lets
/// the steps in flight finish and checkpoint, gives their items back to the queue (the next worker
/// goes on from the checkpoints without waiting for a lease to expire), leaves the list of workers
/// and returns.
public final class RunWorker: Service, Sendable {
    public struct Options: Sendable, Hashable {
        /// Items run at once, at most.
        public var concurrency: Int
        /// How long an item stays this worker's without a heartbeat; another worker may take it after.
        public var lease: Duration
        /// How often a worker with nothing to do claims anyway, without a notification: expired
        /// items of a dead worker tell nobody they are free.
        public var pollInterval: Duration

        /// How many workers an item may take down (they died, hung or lost the store while they
        /// held it) before it is failed with `ITEM_ATTEMPTS_EXHAUSTED` instead of run again: a
        /// plugin that crashes its process on one input must not crash every worker in turn.
        public var maxLostAttempts: Int

        public init(concurrency: Int = 4, lease: Duration = .seconds(30), pollInterval: Duration = .seconds(5), maxLostAttempts: Int = 3) {
            self.concurrency = max(1, concurrency)
            self.lease = max(lease, .milliseconds(300))
            self.pollInterval = max(pollInterval, .milliseconds(50))
            self.maxLostAttempts = max(1, maxLostAttempts)
        }

        /// A third of the lease: two beats may fail before the lease runs out.
        var heartbeat: Duration { lease / 3 }
    }

    let service: RunService
    let queue: any WorkQueueStorage
    public let options: Options
    /// This worker's id, the same as its engine's run-lease owner.
    public let id: String
    let startedAt = Date()
    /// Raised on graceful shutdown: items start no new step, and are given back once their steps
    /// in flight ended.
    let drain = CancellationToken()
    let wakeup = Wakeup()
    private let state = Mutex(State())

    private struct State {
        var held: [WorkItemKey: HeldItem] = [:]
        var stopping = false
        var lastRenewal = ContinuousClock.now
        /// Claims begun, and whether one is between its query and its items' entry in `held`: a
        /// heartbeat in that window sees items the store says are held and `held` does not have yet.
        var claimsBegun = 0
        var claiming = false
        /// The drain ran out of time: item ends are no longer retried.
        var abandoning = false
    }

    private struct HeldItem {
        let token: CancellationToken
        let claimedAt: ContinuousClock.Instant
        var lost = false
    }

    /// - Parameters:
    ///   - service: whose engine runs the items, and whose flows, limits and sub-runs they use. Its
    ///     runs must go to a queue (`RunExecution.queued`, which checked its store is one).
    public init(service: RunService, options: Options = Options()) throws {
        guard let queue = service.queue else {
            throw ServiceError(
                status: 500, code: "STORE_UNSUPPORTED",
                "a worker needs a run service whose runs are queued (RunExecution.queued, on a PostgreSQL store), not one that runs them in process")
        }
        self.service = service
        self.queue = queue
        self.options = options
        id = service.engine.leaseOwner.id
    }

    var logger: Logger { service.engine.logger }

    /// Items running now.
    public var itemsRunning: Int { state.withLock { $0.held.count } }

    private var isStopping: Bool { state.withLock { $0.stopping } }

    private func record(heartbeatAt: Date = Date()) -> WorkerRecord {
        let (items, stopping) = state.withLock { ($0.held.count, $0.stopping) }
        let owner = service.engine.leaseOwner
        return WorkerRecord(
            id: id, host: owner.host, pid: owner.pid, startedAt: startedAt.roundedForStore, heartbeatAt: heartbeatAt.roundedForStore,
            concurrency: options.concurrency, items: items, draining: stopping, lease: options.lease)
    }

    // MARK: Service

    public func run() async throws {
        service.startListening()
        let subscription = service.workEvents.subscribe { [weak self] notification in self?.notified(notification) }
        defer { service.workEvents.unsubscribe(subscription) }
        await register()
        let heartbeat = Task { [self] in await beat() }
        await withGracefulShutdownHandler {
            await work()
        } onGracefulShutdown: { [self] in
            stop()
        }
        heartbeat.cancel()
        do {
            try await queue.removeWorker(id: id)
        } catch {
            logger.warning("worker \(id.prefix(8)): could not leave the list of workers: \(error)")
        }
    }

    /// Stops claiming and drains (what graceful shutdown does); `run()` returns once the items
    /// held were given back or ended.
    public func stop() {
        let first = state.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        drain.cancel()
        wakeup.raise()
        guard first else { return }
        // Steps in flight get the service's drain timeout to finish; then they are cancelled, and
        // what cannot be recorded is left to its lease (another worker goes on with it).
        Task { [self] in
            try? await Task.sleep(for: service.limits.drainTimeout)
            let tokens = state.withLock { state -> [CancellationToken] in
                state.abandoning = true
                return state.held.values.map(\.token)
            }
            for token in tokens { token.cancel() }
        }
    }

    /// Registers this worker, trying again while the store does not answer.
    private func register() async {
        while !isStopping {
            do {
                try await queue.registerWorker(record())
                return
            } catch {
                logger.error("worker \(id.prefix(8)): cannot register with the store (trying again): \(error)")
                await wakeup.wait(upTo: options.pollInterval)
            }
        }
    }

    private func notified(_ notification: WorkNotification) {
        switch notification {
        case .workQueued, .reconnected:
            wakeup.raise()
        case .runCanceled(let runID):
            service.heldRun(runID)?.cancel()
        case .runSettled:
            break
        }
    }

    // MARK: Claiming

    /// Claims while there is room and work, then waits for a notification, a free slot or the poll.
    private func work() async {
        await withDiscardingTaskGroup { group in
            while !isStopping {
                let room = options.concurrency - itemsRunning
                var claimed: [WorkClaim] = []
                if room > 0 {
                    state.withLock { state in
                        state.claimsBegun += 1
                        state.claiming = true
                    }
                    let now = Date()
                    do {
                        claimed = try await queue.claimWork(
                            worker: id, limit: room, now: now, leaseUntil: now.addingTimeInterval(options.lease.inSeconds))
                    } catch {
                        logger.error("worker \(id.prefix(8)): cannot claim work: \(error)")
                    }
                }
                for claim in claimed {
                    let token = CancellationToken()
                    state.withLock { $0.held[claim.item] = HeldItem(token: token, claimedAt: .now) }
                    group.addTask { [self] in await execute(claim, token: token) }
                }
                state.withLock { $0.claiming = false }
                // A full claim may have left more: claim again at once.
                if room > 0 && claimed.count == room { continue }
                await wakeup.wait(upTo: options.pollInterval)
            }
        }
    }

    // MARK: Running an item

    private func execute(_ claim: WorkClaim, token: CancellationToken) async {
        let item = claim.item
        defer {
            state.withLock { _ = $0.held.removeValue(forKey: item) }
            wakeup.raise()
        }
        if claim.cancelRequested {
            // Cancelled while the worker before held it: it ends cancelled, unrun.
            await finish(item, .canceled)
            return
        }
        if claim.lostAttempts >= options.maxLostAttempts {
            await fail(
                item, code: "ITEM_ATTEMPTS_EXHAUSTED",
                "\(claim.lostAttempts) workers were lost while they ran this item (died, hung, or lost the store past their lease); it is not run again (at most \(options.maxLostAttempts) may be)")
            return
        }
        let run: LiveRun
        do {
            run = try await hold(item.runID)
        } catch {
            if error.code == "STORE_ERROR" { return await giveBack(item, because: error.message) }
            await fail(item, code: error.code, "cannot be run by this worker: \(error.message)")
            return
        }
        defer { letGo(item.runID) }
        let runToken = run.token.onCancel { token.cancel() }
        defer { run.token.removeHandler(runToken) }
        var options = service.itemOptions(run, item.index)
        options.cancellation = token
        options.drain = drain
        let resume = claim.attempt > 1 || claim.resumeValues != nil
        let outcome = await service.itemOutcome(run, item.index, resume: resume, values: claim.resumeValues ?? [:], options: options)
        if state.withLock({ $0.held[item]?.lost ?? false }) {
            // Another worker took it (or will): its end is that worker's to record.
            try? await release(item)
            return
        }
        guard let outcome else {
            // Drained: back to the queue, to go on from its checkpoints.
            do { try await release(item) } catch {
                logger.warning("worker \(id.prefix(8)): could not give back \(item) (its lease will expire): \(error)")
            }
            return
        }
        if let error = outcome.error, ["RUN_OWNED", "STORE_ERROR"].contains(error.code) {
            // Not the item's failure: the engine of a worker that died moments ago still holds the
            // item's run, or the store failed under it. Give it back, to be run again from its
            // checkpoints once that lease ran out or the store answers.
            return await giveBack(item, because: "\(error.code): \(error.message)")
        }
        if outcome.status == .failed, let error = outcome.error, (try? await service.store.run(id: item.itemRunID))?.status != .failed {
            // Refused before the engine recorded anything (a component or plugin this worker does
            // not have, a grant it lacks): the item's record says why, not "never started".
            return await fail(item, code: error.code, error.message)
        }
        await finish(item, RunRecord.Status(outcome.status))
    }

    /// Gives the item back to the queue, waiting for the store no longer than a heartbeat (past
    /// that, the item's lease expiring gives it back).
    private func release(_ item: WorkItemKey) async throws {
        try await Deadline.race({ [queue, id] in try await queue.releaseWork(item, worker: id) }, within: options.heartbeat)
    }

    /// Gives an item back after a pause, for a failure that is not the item's own.
    private func giveBack(_ item: WorkItemKey, because reason: String) async {
        logger.warning("worker \(id.prefix(8)): giving back \(item) to run again: \(reason)")
        if !state.withLock({ $0.abandoning }) { try? await Task.sleep(for: options.heartbeat) }
        do { try await release(item) } catch {
            logger.warning("worker \(id.prefix(8)): could not give back \(item) (its lease will expire): \(error)")
        }
    }

    /// Ends an item as failed with `code`, recording why in the item's own record (what
    /// `GET /runs/{id}/items` shows), and logs it.
    private func fail(_ item: WorkItemKey, code: String, _ message: String) async {
        logger.error("worker \(id.prefix(8)): \(item) failed: \(code): \(message)")
        let now = Date().roundedForStore
        let result: JSON = [
            "status": "failed", "error": ["code": .string(code), "message": .string(message)], "endedAt": .string(WireNames.timestamp(now)),
        ]
        do {
            if try await service.store.run(id: item.itemRunID) != nil {
                try await service.store.updateRun(id: item.itemRunID, status: .failed, result: result, updatedAt: now)
            } else {
                try await service.store.putRun(RunRecord(
                    id: item.itemRunID, flowName: service.heldRun(item.runID)?.flowName ?? "flow", input: .null, status: .failed,
                    createdAt: now, result: result))
            }
        } catch {
            logger.error("worker \(id.prefix(8)): could not record why \(item) failed: \(error)")
        }
        await finish(item, .failed)
    }

    /// Records the item's end, trying again while the store does not answer and the item is ours.
    private func finish(_ item: WorkItemKey, _ status: RunRecord.Status) async {
        var delay = Duration.milliseconds(100)
        while true {
            do {
                let now = Date().roundedForStore
                switch try await Deadline.race({ [queue, id] in try await queue.finishWork(item, worker: id, status: status, now: now) }, within: options.lease) {
                case .recorded(let settled):
                    if let settled { logger.debug("worker \(id.prefix(8)): run \(item.runID) is \(settled.rawValue)") }
                case .notHeld:
                    logger.warning("worker \(id.prefix(8)): \(item) was taken over by another worker before its end was recorded")
                }
                return
            } catch {
                let lost = state.withLock { ($0.held[item]?.lost ?? true) || $0.abandoning }
                if lost {
                    logger.error("worker \(id.prefix(8)): could not record the end of \(item), and its lease ran out: another worker goes on with it (\(error))")
                    return
                }
                logger.warning("worker \(id.prefix(8)): could not record the end of \(item) (trying again): \(error)")
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, options.heartbeat)
            }
        }
    }

    /// The run of a claimed item, read from the store once for all the items of it this process holds.
    private func hold(_ runID: String) async throws(ServiceError) -> LiveRun {
        if let run = service.holdRun(runID, loaded: nil) { return run }
        let record: ServiceRunRecord?
        do {
            record = try await service.store.serviceRun(id: runID)
        } catch {
            throw RunService.storeFailed("read run \(runID)", error)
        }
        guard let record else { throw .notFound("RUN_NOT_FOUND", "run \(runID) is not in the store (deleted?)", field: "runId") }
        guard let request = StoredRequest(json: record.request), request.items.count == record.itemCount else {
            throw ServiceError(status: 500, code: "STORE_ERROR", "the stored request of run \(runID) cannot be read")
        }
        let flow = try await service.loadFlow(record.flowID, field: "flowId").flow
        let overrides = try RunService.overrides(request.overrides, for: flow)
        let run = LiveRun(
            id: record.id, flowID: record.flowID, flow: flow, createdAt: record.createdAt, parentRunID: record.parentRunID,
            rootRunID: record.rootRunID, depth: record.depth, request: request, overrides: overrides,
            // Events of a worker's items are not streamed anywhere yet: keep few.
            journal: EventJournal(capacity: 16, bufferLimit: 16))
        return service.holdRun(runID, loaded: run)!
    }

    private func letGo(_ runID: String) { service.letGoRun(runID) }

    // MARK: Heartbeat

    /// Renews the leases of the items held every third of the lease; stops items another worker
    /// took, or that it could not renew for a whole lease; cancels items whose runs were cancelled.
    private func beat() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: options.heartbeat) } catch { return }
            let sent = ContinuousClock.now
            let now = Date()
            let claimsBefore = state.withLock { $0.claiming ? -1 : $0.claimsBegun }
            do {
                // Within a beat: a store that hangs must not keep the lease check below from running.
                let beat = record(heartbeatAt: now)
                let renewal = try await Deadline.race(
                    { [queue, options] in try await queue.renewWork(beat, leaseUntil: now.addingTimeInterval(options.lease.inSeconds)) },
                    within: options.heartbeat)
                let (lost, canceled, unknown) = state.withLock { state -> ([CancellationToken], Set<String>, [WorkItemKey]) in
                    state.lastRenewal = sent
                    var lost: [CancellationToken] = []
                    for (key, item) in state.held where item.claimedAt < sent && !renewal.held.contains(key) && !item.lost {
                        state.held[key]?.lost = true
                        lost.append(item.token)
                    }
                    // Held in the store but not here: a claim whose answer was lost (its
                    // connection dropped after the commit). Back to the queue with them.
                    let settled = claimsBefore >= 0 && !state.claiming && state.claimsBegun == claimsBefore
                    let unknown = settled ? renewal.held.filter { state.held[$0] == nil } : []
                    return (lost, Set(renewal.canceled.map(\.runID)), Array(unknown))
                }
                for item in unknown { try? await release(item) }
                for token in lost { token.cancel() }
                for runID in canceled { service.heldRun(runID)?.cancel() }
            } catch {
                // Past the lease another worker may have taken the items: stop them here.
                let expired = state.withLock { state -> [CancellationToken] in
                    guard ContinuousClock.now - state.lastRenewal >= options.lease else { return [] }
                    var tokens: [CancellationToken] = []
                    for (key, item) in state.held where !item.lost {
                        state.held[key]?.lost = true
                        tokens.append(item.token)
                    }
                    return tokens
                }
                logger.error("worker \(id.prefix(8)): heartbeat failed\(expired.isEmpty ? "" : ", and the leases ran out: stopping \(expired.count) item(s)"): \(error)")
                for token in expired { token.cancel() }
            }
        }
    }
}

extension RunRecord.Status {
    init(_ status: RunStatus) {
        switch status {
        case .success: self = .success
        case .failed: self = .failed
        case .canceled: self = .canceled
        case .paused: self = .paused
        }
    }
}
