public import NodalJSON
public import FoundationEssentials

/// Where runs, batch items, step checkpoints, pause records, blobs and cached step results live.
///
/// Three implementations ship: ``InMemoryRunStore`` (tests, embedding), ``SQLiteRunStore`` (the
/// default for the CLI: one file, no server) and `PostgresRunStore` (NodalPostgres: one database
/// shared by several processes). ``RunStoreLocation`` turns a `--store` argument, an environment
/// variable or a Stepflow `storageConfig` into an open store.
///
/// The contract every implementation keeps (one parameterized test suite checks all three):
/// - A call that returns has made its write durable as far as the store promises (the SQLite store:
///   it survives the process being killed); a checkpoint written before a dependent step starts is
///   there after a crash.
/// - Times are kept to the millisecond: a `Date` read back is the written one rounded to the
///   nearest millisecond.
/// - Checkpoints and pause records belong to a run: writing one for a run that was never put
///   throws ``RunStoreError/Kind/runNotFound``, and deleting the run deletes them.
/// - JSON comes back equal (as JSON) to what was written, object keys in the order written.
/// - Errors are ``RunStoreError``s.
public protocol RunStore: Sendable {
    // MARK: Runs

    /// The run with this id, or `nil`.
    func run(id: String) async throws -> RunRecord?
    /// Up to `limit` runs, newest first (by `createdAt`; runs created in the same millisecond:
    /// the one put last first).
    func listRuns(limit: Int) async throws -> [RunRecord]
    /// Deletes a run with its checkpoints and pause records. Returns whether it existed.
    @discardableResult
    func deleteRun(id: String) async throws -> Bool

    // MARK: Blobs

    /// Stores a value under its content id (``ContentHash/blobID(of:)``: the SHA-256 of its
    /// compact JSON, keys in document order, as Stepflow's) and returns the id. Putting the same
    /// value again is a no-op.
    @discardableResult
    func putBlob(_ value: JSON) async throws -> String
    /// The blob with this id, or `nil`. Object keys come back in the order they were stored.
    func blob(id: String) async throws -> JSON?
    /// Stores a JSON value as ``putBlob(_:)`` does (the same id) and records its type: ``BlobType/data``
    /// or ``BlobType/flow`` (a value the caller checked reads as a flow). A value put again as a
    /// flow becomes a flow blob; put again as data, it keeps its type.
    @discardableResult
    func putBlob(_ value: JSON, type: BlobType) async throws -> String
    /// Stores bytes with a type of the caller's choosing (a media type such as `image/png`) under
    /// their SHA-256 (64 lowercase hex digits) and returns the id. Putting the same bytes again is a
    /// no-op (the first type stays).
    @discardableResult
    func putBytes(_ bytes: [UInt8], type: String) async throws -> String
    /// The blob with this id, JSON or bytes, with its type; `nil` when there is none. JSON blobs
    /// are found first, then bytes.
    func storedBlob(id: String) async throws -> StoredBlob?

    // MARK: Result cache

    /// The cached output for a key, or `nil` on a miss. A hit makes the entry the most recently
    /// used one.
    func cachedResult(key: String) async throws -> CacheEntry?
    /// Removes every cached result; returns how many there were.
    @discardableResult
    func clearCache() async throws -> Int
    /// How many entries and bytes the cache holds now.
    func cacheStatistics() async throws -> CacheStatistics

    // MARK: Lifetime

    /// Releases the store's resources. Calls after `close()` throw ``RunStoreError/Kind/closed``.
    /// Closing twice is a no-op.
    func close() async throws
}

/// What the engine writes into a store as runs go: run records, batch items, step checkpoints,
/// pause records, cached results. Both stores that ship conform; the records are the engine's
/// own business, so none of this is public API (users read runs through ``RunStore``).
package protocol RunStorage: RunStore {
    // MARK: Writing runs

    /// Inserts the run, or replaces every field of the run with the same id (keeping its place in
    /// ``listRuns(limit:)``).
    func putRun(_ run: RunRecord) async throws
    /// Sets a run's status, result (`nil` clears it) and update time.
    /// Throws ``RunStoreError/Kind/runNotFound`` when there is no such run.
    func updateRun(id: String, status: RunRecord.Status, result: JSON?, updatedAt: Date) async throws

    // MARK: Batch items

    /// Inserts or replaces items (keyed by batch id and index), all or none.
    func putBatchItems(_ items: [BatchItemRecord]) async throws
    /// A batch's items in index order.
    func batchItems(batchID: String) async throws -> [BatchItemRecord]

    // MARK: Step checkpoints

    /// Inserts or replaces the checkpoint of one step of a run. Durable when it returns.
    func putCheckpoint(_ checkpoint: StepCheckpoint) async throws
    /// Inserts or replaces the checkpoints of steps that finished together, in the order given.
    /// Durable when it returns. A store that can commits them together (SQLite: one transaction,
    /// one write to the file); the default writes them one by one, so a failure may leave the
    /// first ones written (harmless: each says only that its step finished).
    func putCheckpoints(_ checkpoints: [StepCheckpoint]) async throws
    /// Returns once every checkpoint of the run written so far is durable; throws if one could
    /// not be written. For stores that write checkpoints behind the run (SQLite's `grouped`
    /// durability); the default returns at once, every write being durable when it returned.
    func flushCheckpoints(runID: String) async throws
    /// Every checkpoint of a run, in the order each step's checkpoint was first written.
    func checkpoints(runID: String) async throws -> [StepCheckpoint]

    // MARK: Pause records (human-in-the-loop interrupts)

    /// Inserts or replaces the pause record keyed by run id and resume key.
    func putPause(_ pause: PauseRecord) async throws
    /// A run's pause records, in the order first written.
    func pauses(runID: String) async throws -> [PauseRecord]
    /// Deletes one pause record. Returns whether it existed.
    @discardableResult
    func deletePause(runID: String, resumeKey: String) async throws -> Bool

    // MARK: Leases (one owner per run; see RunLease)

    /// Gives `lease` to its owner when the run has no lease, its lease expired before `now`, it
    /// is already the owner's (a renewal), or its holder is `replacing` (a holder the caller found
    /// dead). Otherwise returns the live holder. Atomic across processes sharing the store. A
    /// run id with no record yet can be claimed: a new run is claimed before it is recorded.
    func claimLease(_ lease: RunLease, now: Date, replacing: String?) async throws -> LeaseClaim
    /// Moves the owner's lease on to `expiresAt`. False when the owner no longer holds it (it
    /// expired and another owner claimed the run): the owner must stop running it.
    func renewLease(runID: String, owner: String, expiresAt: Date) async throws -> Bool
    /// Gives the run up, if `owner` holds it.
    func releaseLease(runID: String, owner: String) async throws
    /// The run's lease, live or not, or nil.
    func lease(runID: String) async throws -> RunLease?

    // MARK: Result cache

    /// Stores an output under a key (replacing an older one), then evicts least recently used
    /// entries until the store's ``CacheLimit`` holds. A value larger than the byte limit is not
    /// stored.
    func putCachedResult(key: String, value: JSON) async throws
}

/// One run as the store keeps it.
public struct RunRecord: Sendable, Hashable {
    /// A recorded run's status: `running` while an owner runs it (or its owner died: see
    /// `abandoned` in `nodal runs list`), else how it ended.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case running, success, failed, canceled, paused
    }

    public var id: String
    public var flowName: String
    /// The flow file the run came from, if it came from a file.
    public var flowPath: String?
    /// SHA-256 (hex) of the flow file's bytes when the run started (`ContentHash.sha256Hex(bytes)`),
    /// to refuse resuming a run whose flow changed.
    public var flowHash: String?
    public var input: JSON
    /// `running`, or how the run ended.
    public var status: Status
    public var createdAt: Date
    public var updatedAt: Date
    /// The finished run's result (`RunResult.json`).
    public var result: JSON?
    /// For an item of a sub-run (a run a plugin submitted through the runs extension): the run of
    /// the step that submitted it. Nil for a run started from outside.
    public var parentRunID: String?
    /// For an item of a sub-run: the run at the top of the chain of parents (the parent itself
    /// when that was started from outside). Nil for a run started from outside.
    public var rootRunID: String?

    public init(
        id: String, flowName: String, flowPath: String? = nil, flowHash: String? = nil, input: JSON,
        status: Status, createdAt: Date, updatedAt: Date? = nil, result: JSON? = nil,
        parentRunID: String? = nil, rootRunID: String? = nil
    ) {
        self.parentRunID = parentRunID
        self.rootRunID = rootRunID
        self.id = id
        self.flowName = flowName
        self.flowPath = flowPath
        self.flowHash = flowHash
        self.input = input
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.result = result
    }
}

/// One item of a batch: which run handles it and how far it got.
package struct BatchItemRecord: Sendable, Hashable {
    package var batchID: String
    package var index: Int
    /// The run for this item, once it has one.
    package var runID: String?
    package var status: String

    package init(batchID: String, index: Int, runID: String? = nil, status: String) {
        self.batchID = batchID
        self.index = index
        self.runID = runID
        self.status = status
    }
}

/// What is kept about a step when it finishes, so a resumed run can reuse it.
package struct StepCheckpoint: Sendable, Hashable {
    package var runID: String
    package var stepID: String
    /// A `StepStatus` raw value (`success`, `failed`, `skipped`, ...).
    package var status: String
    /// The input the node was called with, if known.
    package var input: JSON?
    package var output: JSON?
    /// The step's error as JSON (`{"code":..., "message":..., "details":...}`).
    package var error: JSON?
    /// Calls made, retries included.
    package var attempts: Int
    package var startedAt: Date?
    package var endedAt: Date?

    package init(
        runID: String, stepID: String, status: String, input: JSON? = nil, output: JSON? = nil, error: JSON? = nil,
        attempts: Int = 1, startedAt: Date? = nil, endedAt: Date? = nil
    ) {
        self.runID = runID
        self.stepID = stepID
        self.status = status
        self.input = input
        self.output = output
        self.error = error
        self.attempts = attempts
        self.startedAt = startedAt
        self.endedAt = endedAt
    }
}

/// A run waiting for outside input: resuming it with a value for `resumeKey` continues `stepID`.
package struct PauseRecord: Sendable, Hashable {
    package var runID: String
    /// What the resumer names, e.g. `review.decision`.
    package var resumeKey: String
    package var stepID: String
    /// What was shown to whoever will answer (a prompt, a draft to review).
    package var value: JSON
    package var createdAt: Date

    package init(runID: String, resumeKey: String, stepID: String, value: JSON, createdAt: Date) {
        self.runID = runID
        self.resumeKey = resumeKey
        self.stepID = stepID
        self.value = value
        self.createdAt = createdAt
    }
}

/// A cached step output.
public struct CacheEntry: Sendable, Hashable {
    public var key: String
    public var value: JSON
    public var createdAt: Date
    /// Bytes of the value's compact JSON text: what counts against ``CacheLimit/maxBytes``.
    public var byteSize: Int

    public init(key: String, value: JSON, createdAt: Date, byteSize: Int) {
        self.key = key
        self.value = value
        self.createdAt = createdAt
        self.byteSize = byteSize
    }
}

/// How large the result cache may grow before least recently used entries are evicted.
public struct CacheLimit: Sendable, Hashable {
    /// At most this many entries (`nil`: no limit).
    public var maxEntries: Int?
    /// At most this many bytes of values (`nil`: no limit).
    public var maxBytes: Int?

    public init(maxEntries: Int? = nil, maxBytes: Int? = nil) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    /// 10,000 entries and 256 MiB.
    public static let `default` = CacheLimit(maxEntries: 10_000, maxBytes: 256 << 20)
    public static let unlimited = CacheLimit()
}

/// The result cache's current size.
public struct CacheStatistics: Sendable, Hashable {
    public var entries: Int
    public var bytes: Int

    public init(entries: Int, bytes: Int) {
        self.entries = entries
        self.bytes = bytes
    }
}

// MARK: - Shared helpers

extension Date {
    /// Milliseconds since 1970, the unit every store keeps times in; dates beyond what Int64
    /// milliseconds hold (`Date.distantFuture` is not) are clamped rather than trapping.
    package var storeMilliseconds: Int64 {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded()
        guard milliseconds.isFinite else { return milliseconds > 0 ? .max : .min }  // NaN: .min
        if milliseconds >= 9.2e18 { return .max }
        if milliseconds <= -9.2e18 { return .min }
        return Int64(milliseconds)
    }

    package init(storeMilliseconds: Int64) { self.init(timeIntervalSince1970: Double(storeMilliseconds) / 1000) }

    /// This date as a store gives it back.
    package var roundedForStore: Date { Date(storeMilliseconds: storeMilliseconds) }
}

extension RunStorage {
    package func putCheckpoints(_ checkpoints: [StepCheckpoint]) async throws {
        for checkpoint in checkpoints { try await putCheckpoint(checkpoint) }
    }

    package func flushCheckpoints(runID: String) async throws {}
}
