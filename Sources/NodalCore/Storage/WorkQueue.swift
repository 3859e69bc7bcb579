package import NodalJSON
package import FoundationEssentials

/// A store that is also a work queue: the run service records a run's items as queued work, and
/// workers (`nodal worker`, or `nodal serve --workers N`) in any process sharing the store claim
/// them, run them and record how they ended. Only the PostgreSQL store is one (README: Scale-out).
///
/// An item of the queue is one item of a service run (`ServiceRunRecord.itemRunID`), in one of four
/// states: `queued` (nobody holds it), `running` (a worker holds it until its lease expires; the
/// worker renews the lease on a heartbeat), `paused` (it waits for an answer) and `done`. A running
/// item whose lease expired is claimable again, as a queued one is: the worker that takes it goes on
/// from the item's checkpoints. Settling a run (its status once no item is queued or running) is
/// done by the store in the same transaction as the item's end, so no crash between the two can
/// leave a run running with nothing left to run.
///
/// Lease times are the workers' own clocks, as run leases are (`RunLease`): hosts sharing a store
/// need clocks that agree to well within a lease.
package protocol WorkQueueStorage: ServiceRunStorage {
    /// Records a new run and queues all its items, in one transaction, and wakes idle workers.
    func putQueuedServiceRun(_ run: ServiceRunRecord, queuedAt: Date) async throws

    /// Claims at most `limit` claimable items for `worker`, oldest queued first, holding each until
    /// `leaseUntil`. An item another worker is claiming at the same moment is skipped, never
    /// claimed twice (`FOR UPDATE SKIP LOCKED`). Taking over an expired item also drops the run
    /// lease its previous worker's engine held, so that engine stops writing to it.
    func claimWork(worker: String, limit: Int, now: Date, leaseUntil: Date) async throws -> [WorkClaim]

    /// The worker's heartbeat: renews the leases of the items it holds, records its heartbeat and
    /// load, and says which of the items it runs it still holds and which were cancelled.
    func renewWork(_ worker: WorkerRecord, leaseUntil: Date) async throws -> WorkRenewal

    /// Records that an item the worker holds ended with `status` (`paused`: it waits for an
    /// answer) and settles its run when nothing of it is left to run. An item run record the
    /// engine left `running` (its last write failed) is given the item's status. `notHeld` when the worker no
    /// longer holds the item (its lease expired and another worker took it): nothing is recorded.
    func finishWork(_ item: WorkItemKey, worker: String, status: RunRecord.Status, now: Date) async throws -> WorkFinish

    /// Gives an item back to the queue unfinished (the worker is draining): the next claim goes on
    /// from its checkpoints, with no wait for a lease to expire.
    func releaseWork(_ item: WorkItemKey, worker: String) async throws

    /// Cancels a run: its queued and paused items end cancelled now, its running items are marked
    /// so their workers stop them (and told through a notification). Returns whether the run was
    /// still going; a run with nothing running any more is settled here.
    func cancelQueuedRun(id: String, now: Date) async throws -> Bool

    /// Queues paused items of a run again with the answers they waited for (`POST /runs/{id}/resume`).
    /// Returns the items it queued: an item answered meanwhile by another resume is not among them.
    func resumeQueuedItems(runID: String, answers: [Int: [String: JSON]], now: Date) async throws -> [Int]

    /// Registers a worker (or a restart of one with the same id).
    func registerWorker(_ worker: WorkerRecord) async throws
    /// Removes a worker that stopped; its items, if any, go back to the queue.
    func removeWorker(id: String) async throws
    /// Workers whose heartbeat is newer than `since`, oldest started first.
    func workers(since: Date) async throws -> [WorkerRecord]

    /// What the queue tells its listeners: work was queued, a run settled, a run was cancelled.
    /// The stream reconnects by itself after a dropped connection and then yields `.reconnected`,
    /// since notifications sent meanwhile were lost. It ends when the store closes.
    func workNotifications() -> AsyncStream<WorkNotification>
}

/// One item of one service run.
package struct WorkItemKey: Sendable, Hashable, CustomStringConvertible {
    package var runID: String
    package var index: Int

    package init(runID: String, index: Int) {
        self.runID = runID
        self.index = index
    }

    package var itemRunID: String { "\(runID)-\(index)" }
    package var description: String { "item \(index) of run \(runID)" }
}

/// An item a worker claimed.
package struct WorkClaim: Sendable, Hashable {
    package var item: WorkItemKey
    /// 1 for the first time the item is claimed; more when it goes on after a worker let it go.
    package var attempt: Int
    /// Of the claims before this one, how many ended with the item given back (a drain, a lease
    /// still held elsewhere) rather than with a worker lost while it ran the item.
    package var givenBack: Int
    /// Claims before this one whose worker was lost while it held the item (died, hung, lost the
    /// store): an item that keeps taking its workers down stops being run past a limit.
    package var lostAttempts: Int { max(0, attempt - 1 - givenBack) }
    /// The answers a resume gave, for an item that waited for them.
    package var resumeValues: [String: JSON]?
    /// The run was cancelled while its previous worker held the item: end it without running it.
    package var cancelRequested: Bool

    package init(item: WorkItemKey, attempt: Int, givenBack: Int = 0, resumeValues: [String: JSON]? = nil, cancelRequested: Bool = false) {
        self.item = item
        self.attempt = attempt
        self.givenBack = givenBack
        self.resumeValues = resumeValues
        self.cancelRequested = cancelRequested
    }
}

/// A heartbeat's answer.
package struct WorkRenewal: Sendable, Hashable {
    /// The items the worker still holds (their leases now renewed).
    package var held: Set<WorkItemKey>
    /// Of those, the ones whose run was cancelled.
    package var canceled: Set<WorkItemKey>

    package init(held: Set<WorkItemKey> = [], canceled: Set<WorkItemKey> = []) {
        self.held = held
        self.canceled = canceled
    }
}

/// What recording an item's end came to.
package enum WorkFinish: Sendable, Hashable {
    /// Recorded; `settled` is the run's status when this item was the last one going.
    case recorded(settled: RunRecord.Status?)
    /// The worker no longer held the item: another one took it over.
    case notHeld
}

/// A worker as the queue knows it (`nodal workers list`, `GET /health`).
package struct WorkerRecord: Sendable, Hashable {
    /// Random per worker process; the same id its engine's run leases carry.
    package var id: String
    package var host: String
    package var pid: Int32
    package var startedAt: Date
    package var heartbeatAt: Date
    /// How many items it runs at once at most, and how many it runs now.
    package var concurrency: Int
    package var items: Int
    /// It stopped claiming and is finishing what it holds.
    package var draining: Bool
    /// Its lease: a worker whose last heartbeat is older than this is presumed gone.
    package var lease: Duration

    package var leaseMilliseconds: Int { Int(lease.components.seconds * 1000 + lease.components.attoseconds / 1_000_000_000_000_000) }

    /// Whether it was heard from within its lease of `now`.
    package func isLive(at now: Date) -> Bool { heartbeatAt.addingTimeInterval(lease.inSeconds) >= now }

    package init(
        id: String, host: String, pid: Int32, startedAt: Date, heartbeatAt: Date, concurrency: Int, items: Int = 0,
        draining: Bool = false, lease: Duration = .seconds(30)
    ) {
        self.lease = lease
        self.id = id
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.concurrency = concurrency
        self.items = items
        self.draining = draining
    }
}

/// A notification of the queue.
package enum WorkNotification: Sendable, Hashable {
    /// Items were queued (or given back): idle workers should claim.
    case workQueued
    /// The run settled (ended, or paused with nothing running).
    case runSettled(String)
    /// The run was cancelled: its workers should stop its items.
    case runCanceled(String)
    /// The listening connection was lost and is back: anything may have happened meanwhile.
    case reconnected
}
