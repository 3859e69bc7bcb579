import NodalCore
import NodalJSON
import FoundationEssentials

/// Where an item of a run stands.
enum ItemPhase: Sendable, Hashable {
    /// Not started yet (or, after a restart, not started again yet).
    case pending
    case running
    /// Waiting for an answer (`POST /runs/{id}/resume`).
    case paused
    case finished
}

/// How many of a run's items stand where.
struct ItemCounts: Sendable, Hashable {
    var total: Int
    var pending = 0
    var running = 0
    var paused = 0
    var succeeded = 0
    var failed = 0
    var canceled = 0

    var finished: Int { succeeded + failed + canceled }

    /// The counts a store keeps (pending and running are what is left).
    var stored: ServiceRunCounts { ServiceRunCounts(succeeded: succeeded, failed: failed, canceled: canceled, paused: paused) }

    /// A run's counts as its record last had them: what is neither finished nor paused is running.
    init(total: Int, stored: ServiceRunCounts) {
        self.total = total
        succeeded = stored.succeeded
        failed = stored.failed
        canceled = stored.canceled
        paused = stored.paused
        running = max(0, total - stored.finished - stored.paused)
    }

    init(total: Int) { self.total = total }

    mutating func add(_ status: RunStatus) {
        switch status {
        case .success: succeeded += 1
        case .failed: failed += 1
        case .canceled: canceled += 1
        case .paused: paused += 1
        }
    }

    /// How a run whose items are all finished ended: cancelled if any item was, else failed if
    /// any failed, else success.
    var finalStatus: RunRecord.Status { canceled > 0 ? .canceled : failed > 0 ? .failed : .success }
}

/// What a run summary shows: the run's record with live counts.
struct RunHeader: Sendable {
    var id: String
    var flowID: String
    var flowName: String?
    var status: RunRecord.Status
    var counts: ItemCounts
    var createdAt: Date
    var completedAt: Date?
    var parentRunID: String?
    var rootRunID: String
    var depth: Int

    init(_ record: ServiceRunRecord) {
        id = record.id
        flowID = record.flowID
        flowName = record.flowName
        status = record.status
        counts = ItemCounts(total: record.itemCount, stored: record.counts)
        createdAt = record.createdAt
        completedAt = record.completedAt
        parentRunID = record.parentRunID
        rootRunID = record.rootRunID ?? record.id
        depth = record.depth
    }

    init(id: String, flowID: String, flowName: String?, status: RunRecord.Status, counts: ItemCounts, createdAt: Date,
         completedAt: Date?, parentRunID: String?, rootRunID: String, depth: Int) {
        self.id = id
        self.flowID = flowID
        self.flowName = flowName
        self.status = status
        self.counts = counts
        self.createdAt = createdAt
        self.completedAt = completedAt
        self.parentRunID = parentRunID
        self.rootRunID = rootRunID
        self.depth = depth
    }
}

/// One item as the item and step routes show it.
struct ItemView: Sendable {
    var index: Int
    var phase: ItemPhase
    /// Set once the item finished or paused.
    var outcome: ItemOutcome?
    /// While it runs: its steps as far as events told (after a restart, its checkpoints).
    var liveSteps: [StepOutcome]

    /// The item's steps: the run's result's once there is one, else the live ones.
    var steps: [StepOutcome] { outcome?.steps ?? liveSteps }
}

/// A whole run for the routes that read its items: its header, its items by index, and the order
/// they finished in.
struct RunView: Sendable {
    var header: RunHeader
    var items: [ItemView]
    var completionOrder: [Int]
}
