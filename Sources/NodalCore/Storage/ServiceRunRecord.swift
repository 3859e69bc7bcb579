package import NodalJSON
package import FoundationEssentials

/// A run of the run service (`nodal serve`): one flow, stored as a blob, over a list of inputs, as
/// Stepflow's runs are. Its items are ordinary runs with ids `"<id>-<index>"`, each with its own
/// `RunRecord`, checkpoints and pause records, so an item resumes as any run does.
package struct ServiceRunRecord: Sendable, Hashable {
    package var id: String
    /// The flow's blob id (64 lowercase hex digits).
    package var flowID: String
    package var flowName: String?
    /// `running` until every item ended, then how the run ended; `paused` while an item waits for
    /// an answer and none is still running.
    package var status: RunRecord.Status
    /// What running it again needs after a restart, as the service wrote it (its items' resolved
    /// inputs, overrides, variables, concurrency). The store keeps it as it is.
    package var request: JSON
    package var itemCount: Int
    /// Item counts as last written (the service keeps live ones in memory while it runs).
    package var counts: ServiceRunCounts
    package var createdAt: Date
    package var completedAt: Date?
    /// For a run submitted from a step of another run: that run, and the root of the chain.
    package var parentRunID: String?
    package var rootRunID: String?
    /// 0 for a run started from outside, the parent's depth + 1 for a sub-run.
    package var depth: Int

    package init(
        id: String, flowID: String, flowName: String?, status: RunRecord.Status, request: JSON, itemCount: Int,
        counts: ServiceRunCounts = ServiceRunCounts(), createdAt: Date, completedAt: Date? = nil,
        parentRunID: String? = nil, rootRunID: String? = nil, depth: Int = 0
    ) {
        self.id = id
        self.flowID = flowID
        self.flowName = flowName
        self.status = status
        self.request = request
        self.itemCount = itemCount
        self.counts = counts
        self.createdAt = createdAt
        self.completedAt = completedAt
        self.parentRunID = parentRunID
        self.rootRunID = rootRunID
        self.depth = depth
    }

    /// The run id of item `index`.
    package func itemRunID(_ index: Int) -> String { "\(id)-\(index)" }
}

/// How many of a service run's items ended which way (the rest are running or not started).
package struct ServiceRunCounts: Sendable, Hashable {
    package var succeeded = 0
    package var failed = 0
    package var canceled = 0
    package var paused = 0

    package init(succeeded: Int = 0, failed: Int = 0, canceled: Int = 0, paused: Int = 0) {
        self.succeeded = succeeded
        self.failed = failed
        self.canceled = canceled
        self.paused = paused
    }

    package var finished: Int { succeeded + failed + canceled }
}

/// Which service runs `listServiceRuns` returns, newest first (by `createdAt`, then the one put last).
package struct ServiceRunFilter: Sendable, Hashable {
    package var status: RunRecord.Status?
    package var flowName: String?
    /// Direct children of this run.
    package var parentRunID: String?
    /// This run and every run under it.
    package var rootRunID: String?
    /// Only runs with no parent.
    package var rootsOnly = false
    /// Only runs at most this deep (0: roots only).
    package var maxDepth: Int?
    package var limit: Int
    package var offset = 0
    /// False: the records come with `request` null, so a page of runs does not read (or, from a
    /// file, decode) their inputs, which may be megabytes each.
    package var includeRequest = true

    package init(
        status: RunRecord.Status? = nil, flowName: String? = nil, parentRunID: String? = nil, rootRunID: String? = nil,
        rootsOnly: Bool = false, maxDepth: Int? = nil, limit: Int = 100, offset: Int = 0, includeRequest: Bool = true
    ) {
        self.includeRequest = includeRequest
        self.status = status
        self.flowName = flowName
        self.parentRunID = parentRunID
        self.rootRunID = rootRunID
        self.rootsOnly = rootsOnly
        self.maxDepth = maxDepth
        self.limit = limit
        self.offset = offset
    }
}

/// A store that keeps the run service's runs beside the engine's (every store that ships). Same contract as `RunStorage`: durable when a call returns, times to
/// the millisecond, errors are `RunStoreError`s.
package protocol ServiceRunStorage: RunStorage {
    /// Inserts the run, or replaces every field of the run with the same id (keeping its place in
    /// the list).
    func putServiceRun(_ run: ServiceRunRecord) async throws
    func serviceRun(id: String) async throws -> ServiceRunRecord?
    func listServiceRuns(_ filter: ServiceRunFilter) async throws -> [ServiceRunRecord]
    /// Sets the status, counts and completion time. Throws `runNotFound` when there is no such run.
    func updateServiceRun(id: String, status: RunRecord.Status, counts: ServiceRunCounts, completedAt: Date?) async throws
    /// Deletes the run and its items' runs (`itemRunID(0..<itemCount)`) with their checkpoints
    /// and pause records. Returns whether it existed.
    @discardableResult
    func deleteServiceRun(id: String) async throws -> Bool
    /// Deletes a blob, JSON or bytes (`DELETE /flows/{id}` removes a stored flow). Returns whether
    /// it existed. Runs that already read it are not affected.
    @discardableResult
    func deleteBlob(id: String) async throws -> Bool
}

extension ServiceRunFilter {
    /// Whether `run` passes every filter but paging (stores that filter in SQL keep the same rules).
    package func matches(_ run: ServiceRunRecord) -> Bool {
        if let status, run.status != status { return false }
        if let flowName, run.flowName != flowName { return false }
        if let parentRunID, run.parentRunID != parentRunID { return false }
        if let rootRunID, run.id != rootRunID && run.rootRunID != rootRunID { return false }
        if rootsOnly && run.parentRunID != nil { return false }
        if let maxDepth, run.depth > maxDepth { return false }
        return true
    }
}
