public import NodalJSON
package import FoundationEssentials
import Synchronization

/// A ``RunStore`` in the process's memory: for tests and for apps that embed the engine and need
/// no durability. Everything is gone when the store is.
///
/// It keeps the same contract as ``SQLiteRunStore`` (times to the millisecond, checkpoints need
/// their run, blobs come back canonical, least recently used cache entries are evicted first), so
/// code tested against it behaves the same against a database.
public final class InMemoryRunStore: ServiceRunStorage {
    public let cacheLimit: CacheLimit
    private let state = Mutex(State())

    public init(cacheLimit: CacheLimit = .default) {
        self.cacheLimit = cacheLimit
    }

    private struct State {
        var closed = false
        var runs: [String: StoredRun] = [:]
        var nextRunSequence = 0
        var batches: [String: [Int: BatchItemRecord]] = [:]
        var checkpoints: [String: Ordered<StepCheckpoint>] = [:]
        var pauses: [String: Ordered<PauseRecord>] = [:]
        var leases: [String: RunLease] = [:]
        var blobs: [String: JSON] = [:]
        /// The JSON blobs stored as flows (the others are data).
        var flowBlobs: Set<String> = []
        var byteBlobs: [String: (type: String, bytes: [UInt8])] = [:]
        var cache = LRUCache()
        var serviceRuns: [String: (sequence: Int, record: ServiceRunRecord)] = [:]
        var nextServiceRunSequence = 0

        func checkOpen() throws(RunStoreError) {
            if closed { throw RunStoreError(.closed, "the in-memory run store is closed") }
        }

        func checkRun(_ id: String) throws(RunStoreError) {
            if runs[id] == nil { throw RunStoreError(.runNotFound, "no run with id '\(id)'") }
        }
    }

    private struct StoredRun {
        var sequence: Int
        var record: RunRecord
    }

    /// Values keyed by name, in the order each name was first written.
    private struct Ordered<Value> {
        var order: [String] = []
        var values: [String: Value] = [:]

        mutating func put(_ key: String, _ value: Value) {
            if values.updateValue(value, forKey: key) == nil { order.append(key) }
        }

        @discardableResult
        mutating func remove(_ key: String) -> Bool {
            guard values.removeValue(forKey: key) != nil else { return false }
            order.removeAll { $0 == key }
            return true
        }

        var all: [Value] { order.compactMap { values[$0] } }
    }

    // MARK: Runs

    package func putRun(_ run: RunRecord) throws {
        var run = run
        run.createdAt = run.createdAt.roundedForStore
        run.updatedAt = run.updatedAt.roundedForStore
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            if state.runs[run.id] != nil {
                state.runs[run.id]!.record = run
            } else {
                state.runs[run.id] = StoredRun(sequence: state.nextRunSequence, record: run)
                state.nextRunSequence += 1
            }
        }
    }

    package func updateRun(id: String, status: RunRecord.Status, result: JSON?, updatedAt: Date) throws {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            try state.checkRun(id)
            state.runs[id]!.record.status = status
            state.runs[id]!.record.result = result
            state.runs[id]!.record.updatedAt = updatedAt.roundedForStore
        }
    }

    public func run(id: String) throws -> RunRecord? {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            return state.runs[id]?.record
        }
    }

    public func listRuns(limit: Int) throws -> [RunRecord] {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            let sorted = state.runs.values.sorted {
                $0.record.createdAt != $1.record.createdAt
                    ? $0.record.createdAt > $1.record.createdAt : $0.sequence > $1.sequence
            }
            return sorted.prefix(max(0, limit)).map(\.record)
        }
    }

    @discardableResult
    public func deleteRun(id: String) throws -> Bool {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            state.leases[id] = nil
            guard state.runs.removeValue(forKey: id) != nil else { return false }
            state.checkpoints[id] = nil
            state.pauses[id] = nil
            return true
        }
    }

    // MARK: Service runs

    package func putServiceRun(_ run: ServiceRunRecord) throws {
        var run = run
        run.createdAt = run.createdAt.roundedForStore
        run.completedAt = run.completedAt?.roundedForStore
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            let sequence = state.serviceRuns[run.id]?.sequence ?? state.nextServiceRunSequence
            if state.serviceRuns[run.id] == nil { state.nextServiceRunSequence += 1 }
            state.serviceRuns[run.id] = (sequence, run)
        }
    }

    package func serviceRun(id: String) throws -> ServiceRunRecord? {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            return state.serviceRuns[id]?.record
        }
    }

    package func listServiceRuns(_ filter: ServiceRunFilter) throws -> [ServiceRunRecord] {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            let matching = state.serviceRuns.values.filter { filter.matches($0.record) }
            let newestFirst = matching.sorted {
                ($0.record.createdAt, $0.sequence) > ($1.record.createdAt, $1.sequence)
            }
            return newestFirst.dropFirst(max(0, filter.offset)).prefix(max(0, filter.limit)).map { entry in
                var record = entry.record
                if !filter.includeRequest { record.request = .null }
                return record
            }
        }
    }

    package func updateServiceRun(id: String, status: RunRecord.Status, counts: ServiceRunCounts, completedAt: Date?) throws {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            guard var entry = state.serviceRuns[id] else { throw RunStoreError(.runNotFound, "no service run with id '\(id)'") }
            entry.record.status = status
            entry.record.counts = counts
            entry.record.completedAt = completedAt?.roundedForStore
            state.serviceRuns[id] = entry
        }
    }

    package func deleteServiceRun(id: String) throws -> Bool {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            guard let entry = state.serviceRuns.removeValue(forKey: id) else { return false }
            for index in 0..<max(0, entry.record.itemCount) {
                let itemID = entry.record.itemRunID(index)
                state.runs[itemID] = nil
                state.checkpoints[itemID] = nil
                state.pauses[itemID] = nil
                state.leases[itemID] = nil
            }
            return true
        }
    }

    package func deleteBlob(id: String) throws -> Bool {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            state.flowBlobs.remove(id)
            let json = state.blobs.removeValue(forKey: id) != nil
            let bytes = state.byteBlobs.removeValue(forKey: id) != nil
            return json || bytes
        }
    }

    // MARK: Leases

    package func claimLease(_ lease: RunLease, now: Date, replacing: String?) throws -> LeaseClaim {
        var lease = lease
        lease.expiresAt = lease.expiresAt.roundedForStore
        return try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            if let holder = state.leases[lease.runID], holder.owner != lease.owner, holder.expiresAt > now, holder.owner != replacing {
                return .heldBy(holder)
            }
            state.leases[lease.runID] = lease
            return .claimed
        }
    }

    package func renewLease(runID: String, owner: String, expiresAt: Date) throws -> Bool {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            guard state.leases[runID]?.owner == owner else { return false }
            state.leases[runID]!.expiresAt = expiresAt.roundedForStore
            return true
        }
    }

    package func releaseLease(runID: String, owner: String) throws {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            if state.leases[runID]?.owner == owner { state.leases[runID] = nil }
        }
    }

    package func lease(runID: String) throws -> RunLease? {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            return state.leases[runID]
        }
    }

    // MARK: Batch items

    package func putBatchItems(_ items: [BatchItemRecord]) throws {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            for item in items { state.batches[item.batchID, default: [:]][item.index] = item }
        }
    }

    package func batchItems(batchID: String) throws -> [BatchItemRecord] {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            return (state.batches[batchID] ?? [:]).values.sorted { $0.index < $1.index }
        }
    }

    // MARK: Checkpoints

    package func putCheckpoint(_ checkpoint: StepCheckpoint) throws {
        var checkpoint = checkpoint
        checkpoint.startedAt = checkpoint.startedAt?.roundedForStore
        checkpoint.endedAt = checkpoint.endedAt?.roundedForStore
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            try state.checkRun(checkpoint.runID)
            state.checkpoints[checkpoint.runID, default: Ordered()].put(checkpoint.stepID, checkpoint)
        }
    }

    package func checkpoints(runID: String) throws -> [StepCheckpoint] {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            return state.checkpoints[runID]?.all ?? []
        }
    }

    // MARK: Pauses

    package func putPause(_ pause: PauseRecord) throws {
        var pause = pause
        pause.createdAt = pause.createdAt.roundedForStore
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            try state.checkRun(pause.runID)
            state.pauses[pause.runID, default: Ordered()].put(pause.resumeKey, pause)
        }
    }

    package func pauses(runID: String) throws -> [PauseRecord] {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            return state.pauses[runID]?.all ?? []
        }
    }

    @discardableResult
    package func deletePause(runID: String, resumeKey: String) throws -> Bool {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            return state.pauses[runID]?.remove(resumeKey) ?? false
        }
    }

    // MARK: Blobs

    @discardableResult
    public func putBlob(_ value: JSON) throws -> String {
        let bytes = value.serializedBytes()
        let id = ContentHash.sha256Hex(bytes)
        // Kept as its text reads back, so reads give what the SQLite store gives (NaN as null).
        let stored = (try? JSON(parsing: bytes)) ?? value
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            if state.blobs[id] == nil { state.blobs[id] = stored }
        }
        return id
    }

    public func blob(id: String) throws -> JSON? {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            return state.blobs[id]
        }
    }

    @discardableResult
    public func putBlob(_ value: JSON, type: BlobType) throws -> String {
        let id = try putBlob(value)
        if type == .flow {
            try state.withLock { state throws(RunStoreError) in
                try state.checkOpen()
                state.flowBlobs.insert(id)
            }
        }
        return id
    }

    @discardableResult
    public func putBytes(_ bytes: [UInt8], type: String) throws -> String {
        let id = ContentHash.sha256Hex(bytes)
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            if state.byteBlobs[id] == nil { state.byteBlobs[id] = (type, bytes) }
        }
        return id
    }

    public func storedBlob(id: String) throws -> StoredBlob? {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            if let json = state.blobs[id] {
                return StoredBlob(content: .json(json), type: (state.flowBlobs.contains(id) ? BlobType.flow : .data).rawValue)
            }
            return state.byteBlobs[id].map { StoredBlob(content: .bytes($0.bytes), type: $0.type) }
        }
    }

    // MARK: Result cache

    public func cachedResult(key: String) throws -> CacheEntry? {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            return state.cache.get(key)
        }
    }

    package func putCachedResult(key: String, value: JSON) throws {
        let size = value.serializedBytes().count
        let entry = CacheEntry(key: key, value: value, createdAt: Date().roundedForStore, byteSize: size)
        let limit = cacheLimit
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            state.cache.put(entry, limit: limit)
        }
    }

    @discardableResult
    public func clearCache() throws -> Int {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            let count = state.cache.entries.count
            state.cache = LRUCache()
            return count
        }
    }

    public func cacheStatistics() throws -> CacheStatistics {
        try state.withLock { state throws(RunStoreError) in
            try state.checkOpen()
            return CacheStatistics(entries: state.cache.entries.count, bytes: state.cache.bytes)
        }
    }

    public func close() {
        state.withLock { $0.closed = true }
    }
}

/// Least-recently-used bookkeeping: each use stamps the entry with a new tick and appends
/// (tick, key) to a queue; eviction pops from the front, skipping stale stamps. Amortized O(1).
struct LRUCache {
    var entries: [String: (entry: CacheEntry, tick: UInt64)] = [:]
    var bytes = 0
    private var queue: [(tick: UInt64, key: String)] = []
    private var head = 0
    private var tick: UInt64 = 0

    mutating func get(_ key: String) -> CacheEntry? {
        guard let found = entries[key] else { return nil }
        touch(key)
        return found.entry
    }

    mutating func put(_ entry: CacheEntry, limit: CacheLimit) {
        remove(entry.key)
        if let maxEntries = limit.maxEntries, maxEntries <= 0 { return }
        if let maxBytes = limit.maxBytes, entry.byteSize > maxBytes { return }
        entries[entry.key] = (entry, 0)
        bytes += entry.byteSize
        touch(entry.key)
        while isOver(limit), head < queue.count {
            let (stamp, key) = queue[head]
            head += 1
            if entries[key]?.tick == stamp { remove(key) }
        }
        compactQueue()
    }

    private func isOver(_ limit: CacheLimit) -> Bool {
        if let maxEntries = limit.maxEntries, entries.count > maxEntries { return true }
        if let maxBytes = limit.maxBytes, bytes > maxBytes { return true }
        return false
    }

    private mutating func touch(_ key: String) {
        tick += 1
        entries[key]?.tick = tick
        queue.append((tick, key))
        compactQueue()
    }

    private mutating func remove(_ key: String) {
        if let old = entries.removeValue(forKey: key) { bytes -= old.entry.byteSize }
    }

    /// Drops consumed and stale queue slots once they outnumber live entries.
    private mutating func compactQueue() {
        guard queue.count > 2 * entries.count + 64 else { return }
        queue = queue[head...].filter { entries[$0.key]?.tick == $0.tick }
        head = 0
    }
}
