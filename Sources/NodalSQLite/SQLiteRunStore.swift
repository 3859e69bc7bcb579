public import NodalCore
public import NodalJSON
package import FoundationEssentials
import VaporCSQLite
import Synchronization

/// A ``RunStore`` in one SQLite file (or in memory), through SQLite's C API (the copy sqlite-nio
/// ships). The CLI's default store.
///
/// Opening creates the file (and its folder) if missing, runs pending schema migrations (see
/// `SQLiteSchema`), and refuses, with an error naming the file, a file that is not a database, an
/// SQLite database of another program, or one written by a newer Nodal.
///
/// The database is in WAL mode. Every write is committed before the call returns; with the default
/// ``Durability/processCrash`` it survives the process being killed at any point after that.
/// Several processes may open the same file: SQLite serializes their writes (waiting up to
/// 5 seconds for a lock).
///
/// One connection serves the store; calls are serialized in arrival order. A call runs on the
/// caller's thread when the connection is free, with its statements prepared once for the
/// connection's life: a checkpoint costs one commit, not a hop to another thread and back. What
/// may block for long runs on a thread of the store's own instead: opening (the integrity check
/// reads the whole file), a call that meets another process's write lock (it waits there for the
/// lock), and every call under ``Durability/powerLoss`` (each commit waits for the disk).
public final class SQLiteRunStore: ServiceRunStorage {
    /// What a returned write survives.
    public enum Durability: Sendable, Hashable {
        /// The process being killed or crashing at any moment (SIGKILL included). A power cut or
        /// kernel crash may lose the last writes, never corrupt the file. SQLite's WAL mode with
        /// `synchronous = NORMAL`: commits are not fsync'ed.
        case processCrash
        /// A power cut too: every commit is fsync'ed (`synchronous = FULL`). Each write costs a
        /// disk flush (see docs/storage.md for measured figures).
        case powerLoss
        /// As ``processCrash``, except that step checkpoints are written behind the run: a
        /// checkpoint write returns at once, and the steps that read the step start without
        /// waiting for it. A writer commits the queued checkpoints together (one transaction, one
        /// write to the file, for all the steps that finished since its last commit), in the order
        /// they were written, so after a crash the file holds a prefix of them: no step is recorded
        /// as done unless the steps it read are too. What a crash can cost: the steps that finished
        /// in the last moments before it (their checkpoints still queued) run again on resume, and
        /// so do the steps that started after them. Everything else is written as in
        /// ``processCrash``, after the queue is committed: a run's end is recorded only once all
        /// its checkpoints are, and a checkpoint that cannot be written fails its run (the next
        /// write or the run's end reports it).
        case grouped
    }

    /// The schema version this Nodal writes (SQLite's `PRAGMA user_version`).
    public static var schemaVersion: Int { SQLiteSchema.version }

    /// The database file, or `:memory:`.
    public let path: String
    public let durability: Durability
    public let cacheLimit: CacheLimit

    /// Used only while `lock` is held (or during init, before anyone else can see the store).
    private let connection: SQLiteConnection
    private let lock = AsyncSerialLock()
    private let isClosed = Atomic<Bool>(false)
    /// How many calls met another process's lock and went to a thread of their own (for tests).
    private let handOvers = Atomic<Int>(0)
    var callsHandedOver: Int { handOvers.load(ordering: .relaxed) }
    /// Checkpoints waiting for their commit (see `CheckpointQueue`).
    private let checkpointQueue = CheckpointQueue()

    /// Opens (creating if needed) the store at `path`; `":memory:"` for a private in-memory database.
    public convenience init(path: String, durability: Durability = .processCrash, cacheLimit: CacheLimit = .default) async throws {
        try await self.init(path: path, durability: durability, cacheLimit: cacheLimit, migrations: SQLiteSchema.migrations)
    }

    /// With the migrations given (tests use this to play an older or newer Nodal), and how long
    /// a call waits for another process's lock.
    init(
        path: String, durability: Durability, cacheLimit: CacheLimit, migrations: [[String]],
        busyTimeoutMilliseconds: Int32 = 5_000
    ) async throws {
        self.path = path
        self.durability = durability
        self.cacheLimit = cacheLimit
        let inMemory = path == ":memory:"
        if !inMemory { try Self.prepareLocation(path) }
        do {
            connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        } catch {
            throw RunStoreError(.cannotOpen, "cannot open the run store \(path): \(error.message)", path: path)
        }
        do {
            try await onOwnThread { [self] in try setUp(migrations: migrations, inMemory: inMemory) }
        } catch {
            isClosed.store(true, ordering: .relaxed)
            connection.close()
            throw mapError(error, "opening")
        }
    }

    public func close() async throws {
        // Checkpoints still queued are written first.
        try? await checkpointQueue.flush()
        guard !isClosed.exchange(true, ordering: .relaxed) else { return }
        // Wait for calls in flight, then close.
        try await lock.withLock { connection.close() }
    }

    // MARK: Opening and migrations

    /// Creates the file's folder if needed; refuses a folder given as the file.
    private static func prepareLocation(_ path: String) throws {
        if FileSystem.isDirectory(path) {
            throw RunStoreError(.cannotOpen, "cannot open the run store \(path): it is a folder, not a database file", path: path)
        }
        let folder = FileSystem.directoryName(path)
        do {
            try StoreFiles.createDirectories(folder)
        } catch {
            throw RunStoreError(.cannotOpen, "cannot create the folder for the run store \(path): \(error)", path: path)
        }
    }

    private func setUp(migrations: [[String]], inMemory: Bool) throws {
        // (Waiting for another process's lock is the connection's busy handler: up to 5 s.)
        // The first read of the file: a file that is not a database fails here.
        var (version, applicationID) = try readHeader()
        try checkVersion(version, known: migrations.count)
        if applicationID != SQLiteSchema.applicationID {
            let objects = try query("SELECT count(*) AS n FROM sqlite_schema")
            if version != 0 || (objects.first?.column("n")?.integer ?? 0) != 0 {
                throw RunStoreError(
                    .notANodalStore,
                    "\(path) is an SQLite database, but not a Nodal run store (application id \(applicationID)); "
                        + "choose another file for the store", path: path)
            }
        }
        if !inMemory {
            let mode = try query("PRAGMA journal_mode = WAL")
            _ = mode  // "wal", or the old mode where WAL is impossible (some network file systems).
        }
        let synchronous = durability == .powerLoss ? "FULL" : "NORMAL"  // grouped: as processCrash
        try query("PRAGMA synchronous = \(synchronous)")
        try query("PRAGMA foreign_keys = ON")
        if !inMemory { try checkIntegrity() }

        guard version < migrations.count else { return }
        try query("BEGIN IMMEDIATE")
        do {
            // Another process may have migrated while we waited for the write lock.
            (version, _) = try readHeader()
            try checkVersion(version, known: migrations.count)
            for migration in migrations[version...] {
                for statement in migration { try query(statement) }
            }
            // PRAGMA takes no bound parameters; both numbers are this code's constants.
            try query("PRAGMA application_id = \(SQLiteSchema.applicationID)")
            try query("PRAGMA user_version = \(migrations.count)")
            try query("COMMIT")
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    /// `PRAGMA quick_check` (linear in the file, no index cross-checks): a damaged file is refused
    /// before anything is written into it.
    private func checkIntegrity() throws {
        let rows = try query("PRAGMA quick_check(5)")
        let problems = rows.compactMap { $0.column("quick_check")?.string }.filter { $0 != "ok" }
        guard !problems.isEmpty else { return }
        throw RunStoreError(
            .damaged,
            "the run store \(path) is damaged (\(problems.joined(separator: "; "))); Nodal will not write into it. "
                + "Move it aside and start a new store, or recover it with the sqlite3 shell's .recover", path: path)
    }

    private func readHeader() throws -> (version: Int, applicationID: Int32) {
        let version = try query("PRAGMA user_version").first?.column("user_version")?.integer ?? 0
        let id = try query("PRAGMA application_id").first?.column("application_id")?.integer ?? 0
        return (Int(version), Int32(truncatingIfNeeded: id))
    }

    private func checkVersion(_ version: Int, known: Int) throws {
        guard version > known else { return }
        throw RunStoreError(
            .newerSchema,
            "the run store \(path) has schema version \(version), but this Nodal knows versions up to \(known): "
                + "it was written by a newer Nodal. Upgrade Nodal, or use another store file.", path: path)
    }

    // MARK: Calls

    /// Runs `body` alone on the connection, after checking the store is open, and after the
    /// checkpoints written behind runs so far are committed; maps errors.
    @discardableResult
    func serialized<T>(_ action: String, _ body: @escaping () throws -> T) async throws -> T {
        if !checkpointQueue.isIdle { try? await checkpointQueue.flush() }
        return try await locked(action, body)
    }

    /// `serialized` without waiting for the checkpoints written behind (their writer uses it).
    private func locked<T>(_ action: String, _ body: @escaping () throws -> T) async throws -> T {
        if isClosed.load(ordering: .relaxed) { throw closedError }
        return try await lock.withLock {
            if isClosed.load(ordering: .relaxed) { throw closedError }
            do { return try await run(body) } catch { throw mapError(error, action) }
        }
    }

    /// Runs `body` on the caller's thread, or on a thread of the store's own when it would block
    /// for long (see the type's comment). `body` must leave nothing half-done when it fails
    /// (`transaction` rolls back; single statements are their own transactions): one that met
    /// another process's lock is run again from the start, waiting this time.
    private func run<T>(_ body: @escaping () throws -> T) async throws -> T {
        if durability == .powerLoss { return try await onOwnThread(body) }
        connection.waitsForLocks = false
        do {
            return try body()
        } catch let error as SQLiteError where error.primaryCode == SQLITE_BUSY {
            handOvers.add(1, ordering: .relaxed)
            return try await onOwnThread(body)
        }
    }

    /// Runs `body` on a new thread of its own, where SQLite may wait for locks and the disk
    /// without holding a thread of Swift's cooperative pool; the caller waits, suspended.
    private func onOwnThread<T>(_ body: @escaping () throws -> T) async throws -> T {
        let job = UnsafeJob(connection: connection, body: body)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UnsafeResult<T>, any Error>) in
            // Without a thread to spare (the system refused one) the call runs here, as it would
            // without this store's own thread.
            let started = DetachedThread.start { job.run(continuation) }
            if !started { job.run(continuation) }
        }.value
    }

    /// `body` inside `BEGIN IMMEDIATE` ... `COMMIT` (call inside `serialized`); rolled back if
    /// anything in it fails.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try query("COMMIT")
            return value
        } catch {
            if connection.inTransaction { _ = try? query("ROLLBACK") }
            throw error
        }
    }

    @discardableResult
    func query(_ sql: String, _ binds: [SQLiteData] = []) throws -> [SQLiteRow] {
        try connection.query(sql, binds)
    }

    private var closedError: RunStoreError { RunStoreError(.closed, "the run store \(path) is closed", path: path) }

    private func mapError(_ error: any Error, _ action: String) -> RunStoreError {
        if let error = error as? RunStoreError, error.kind == .corruptRecord, error.path == nil {
            return RunStoreError(.corruptRecord, "the run store \(path) holds a damaged record: \(error.message) (\(action))", path: path)
        }
        if let error = error as? RunStoreError { return error }
        guard let error = error as? SQLiteError else {
            return RunStoreError(.database, "\(action) in the run store \(path) failed: \(error)", path: path)
        }
        switch error.primaryCode {
        case SQLITE_NOTADB:
            return RunStoreError(
                .notADatabase, "\(path) is not a Nodal run store: it is not an SQLite database (\(error.message))", path: path)
        case SQLITE_CORRUPT:
            return RunStoreError(
                .damaged, "the run store \(path) is damaged: \(error.message) (\(action)); nothing more is written to it", path: path)
        case SQLITE_CANTOPEN, SQLITE_PERM:
            return RunStoreError(.cannotOpen, "cannot open the run store \(path): \(error.message)", path: path)
        case SQLITE_CONSTRAINT where error.code == SQLiteError.foreignKeyConstraint:
            return RunStoreError(.runNotFound, "\(action) in the run store \(path) failed: no such run", path: path)
        default:
            return RunStoreError(.database, "\(action) in the run store \(path) failed: \(error.message)", path: path)
        }
    }

    // MARK: Runs

    private static let runColumns =
        "id, flow_name, flow_path, flow_hash, input, status, created_at, updated_at, result, parent_run_id, root_run_id"

    package func putRun(_ run: RunRecord) async throws {
        try await serialized("saving run \(run.id)") { [self] in
            try query(
                """
                INSERT INTO runs (\(Self.runColumns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                ON CONFLICT (id) DO UPDATE SET flow_name = excluded.flow_name, flow_path = excluded.flow_path,
                    flow_hash = excluded.flow_hash, input = excluded.input, status = excluded.status,
                    created_at = excluded.created_at, updated_at = excluded.updated_at, result = excluded.result,
                    parent_run_id = excluded.parent_run_id, root_run_id = excluded.root_run_id
                """,
                [
                    .text(run.id), .text(run.flowName), .optionalText(run.flowPath), .optionalText(run.flowHash),
                    .json(run.input), .text(run.status.rawValue), .time(run.createdAt), .time(run.updatedAt),
                    .optionalJSON(run.result), .optionalText(run.parentRunID), .optionalText(run.rootRunID),
                ])
        }
    }

    package func updateRun(id: String, status: RunRecord.Status, result: JSON?, updatedAt: Date) async throws {
        let rows = try await serialized("updating run \(id)") { [self] in
            try query(
                "UPDATE runs SET status = ?1, result = ?2, updated_at = ?3 WHERE id = ?4 RETURNING seq",
                [.text(status.rawValue), .optionalJSON(result), .time(updatedAt), .text(id)])
        }
        if rows.isEmpty { throw RunStoreError(.runNotFound, "no run with id '\(id)' in the run store \(path)", path: path) }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await serialized("reading run \(id)") { [self] in
            try query("SELECT \(Self.runColumns) FROM runs WHERE id = ?1", [.text(id)]).first.map(runRecord)
        }
    }

    public func listRuns(limit: Int) async throws -> [RunRecord] {
        try await serialized("listing runs") { [self] in
            try query(
                "SELECT \(Self.runColumns) FROM runs ORDER BY created_at DESC, seq DESC LIMIT ?1",
                [.int(max(0, limit))]
            ).map(runRecord)
        }
    }

    @discardableResult
    public func deleteRun(id: String) async throws -> Bool {
        try await serialized("deleting run \(id)") { [self] in
            // Checkpoints and pause records go with it (ON DELETE CASCADE); the lease has no key.
            try query("DELETE FROM run_leases WHERE run_id = ?1", [.text(id)])
            return try !query("DELETE FROM runs WHERE id = ?1 RETURNING seq", [.text(id)]).isEmpty
        }
    }

    private func runRecord(_ row: SQLiteRow) throws -> RunRecord {
        try SQLiteRow.decoding("run '\(row.optionalText("id") ?? "?")'") { try runRecordFields(row) }
    }

    private func runRecordFields(_ row: SQLiteRow) throws -> RunRecord {
        RunRecord(
            id: try row.text("id"), flowName: try row.text("flow_name"), flowPath: row.optionalText("flow_path"),
            flowHash: row.optionalText("flow_hash"), input: try row.json("input"), status: try row.runStatus("status"),
            createdAt: try row.time("created_at"), updatedAt: try row.time("updated_at"),
            result: try row.optionalJSON("result"), parentRunID: row.optionalText("parent_run_id"),
            rootRunID: row.optionalText("root_run_id"))
    }

    // MARK: Leases

    package func claimLease(_ lease: RunLease, now: Date, replacing: String?) async throws -> LeaseClaim {
        try await serialized("claiming run \(lease.runID)") { [self] in
            // One statement, so the check and the write are one step for every process sharing
            // the file: the update happens only where the lease is free, expired, ours, or the
            // dead holder's the caller names.
            let taken = try query(
                """
                INSERT INTO run_leases (run_id, owner, host, pid, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid,
                    expires_at = excluded.expires_at
                WHERE run_leases.owner = excluded.owner OR run_leases.expires_at <= ?6 OR run_leases.owner = ?7
                RETURNING owner
                """,
                [.text(lease.runID), .text(lease.owner), .text(lease.host), .int(Int(lease.pid)), .time(lease.expiresAt),
                 .time(now), .optionalText(replacing)])
            if !taken.isEmpty { return .claimed }
            // Inside `serialized` no other call of this process runs between the two statements,
            // and another process only ever replaces a lease, never removes a live one.
            let holder = try query("SELECT * FROM run_leases WHERE run_id = ?1", [.text(lease.runID)]).first
            return try holder.map { .heldBy(try runLease($0)) } ?? .heldBy(lease)
        }
    }

    package func renewLease(runID: String, owner: String, expiresAt: Date) async throws -> Bool {
        try await serialized("renewing the lease of run \(runID)") { [self] in
            try !query(
                "UPDATE run_leases SET expires_at = ?1 WHERE run_id = ?2 AND owner = ?3 RETURNING owner",
                [.time(expiresAt), .text(runID), .text(owner)]
            ).isEmpty
        }
    }

    package func releaseLease(runID: String, owner: String) async throws {
        try await serialized("releasing run \(runID)") { [self] in
            try query("DELETE FROM run_leases WHERE run_id = ?1 AND owner = ?2", [.text(runID), .text(owner)])
        }
    }

    package func lease(runID: String) async throws -> RunLease? {
        try await serialized("reading the lease of run \(runID)") { [self] in
            try query("SELECT * FROM run_leases WHERE run_id = ?1", [.text(runID)]).first.map(runLease)
        }
    }

    private func runLease(_ row: SQLiteRow) throws -> RunLease {
        RunLease(
            runID: try row.text("run_id"), owner: try row.text("owner"), host: try row.text("host"),
            pid: Int32(clamping: try row.int("pid")), expiresAt: try row.time("expires_at"))
    }

    // MARK: Batch items

    package func putBatchItems(_ items: [BatchItemRecord]) async throws {
        guard !items.isEmpty else { return }
        try await serialized("saving batch items") { [self] in
            try transaction {
                // Several rows per statement: one prepare and one thread hop per chunk.
                let chunkSize = 200
                var start = 0
                while start < items.count {
                    let chunk = items[start..<min(start + chunkSize, items.count)]
                    var binds: [SQLiteData] = []
                    binds.reserveCapacity(chunk.count * 4)
                    for item in chunk {
                        binds += [.text(item.batchID), .int(item.index), .optionalText(item.runID), .text(item.status)]
                    }
                    let values = Array(repeating: "(?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                    try query(
                        """
                        INSERT INTO batch_items (batch_id, item_index, run_id, status) VALUES \(values)
                        ON CONFLICT (batch_id, item_index) DO UPDATE SET run_id = excluded.run_id, status = excluded.status
                        """, binds)
                    start += chunkSize
                }
            }
        }
    }

    package func batchItems(batchID: String) async throws -> [BatchItemRecord] {
        try await serialized("reading batch \(batchID)") { [self] in
            try query(
                "SELECT batch_id, item_index, run_id, status FROM batch_items WHERE batch_id = ?1 ORDER BY item_index",
                [.text(batchID)]
            ).map { row in
                BatchItemRecord(
                    batchID: try row.text("batch_id"), index: try row.int("item_index"),
                    runID: row.optionalText("run_id"), status: try row.text("status"))
            }
        }
    }

    // MARK: Checkpoints

    package func putCheckpoint(_ checkpoint: StepCheckpoint) async throws {
        try await putCheckpoints([checkpoint])
    }

    package func putCheckpoints(_ checkpoints: [StepCheckpoint]) async throws {
        guard !checkpoints.isEmpty else { return }
        if isClosed.load(ordering: .relaxed) { throw closedError }
        let ticket = try checkpointQueue.add(checkpoints)
        if durability == .grouped {
            if ticket.mustWrite { Task { [self] in await writeQueuedCheckpoints() } }
            return
        }
        // Committed before this returns: as the writer (no other was running), or by the writer
        // that is, together with what else it finds queued.
        if ticket.mustWrite { await writeQueuedCheckpoints(until: ticket.sequence) }
        try await checkpointQueue.flush(through: ticket.sequence, runID: checkpoints[0].runID)
    }

    package func flushCheckpoints(runID: String) async throws {
        try await checkpointQueue.flush(runID: runID)
    }

    /// The writer: commits what is queued, together, until nothing is. A caller that writes for
    /// itself (`until` its own sequence number) stops once its checkpoints are in and leaves what
    /// came meanwhile to a writer task.
    private func writeQueuedCheckpoints(until sequence: Int? = nil) async {
        let queue = checkpointQueue
        while let (batch, skipped) = queue.take() {
            var failures: [(runID: String, error: RunStoreError)] = []
            // Together in one transaction; a lone checkpoint, or a batch that failed, one by one:
            // one run's bad checkpoint (its record deleted meanwhile, say) is not the others', and
            // each failure is kept for its own run, named by the write that met it.
            var together = false
            if batch.count > 1 {
                do {
                    try await locked("saving \(batch.count) checkpoints of run \(Self.runNames(batch))") { [self] in
                        try transaction { for checkpoint in batch { try insert(checkpoint) } }
                    }
                    together = true
                } catch {}
            }
            if !together {
                for checkpoint in batch where !failures.contains(where: { $0.runID == checkpoint.runID }) {
                    do {
                        try await locked("saving the checkpoint of step \(checkpoint.stepID) of run \(checkpoint.runID)") { [self] in
                            try insert(checkpoint)
                        }
                    } catch {
                        failures.append((checkpoint.runID, error as? RunStoreError ?? mapError(error, "saving checkpoints")))
                    }
                }
            }
            queue.wrote(batch.count + skipped, failures: failures)
            if let sequence {
                let progress = queue.progress(through: sequence)
                if progress.done, progress.morePending {
                    Task { [self] in await writeQueuedCheckpoints() }
                    return
                }
            }
        }
    }

    /// "r1, r2": the runs of some checkpoints, for a message.
    private static func runNames(_ checkpoints: [StepCheckpoint]) -> String {
        Set(checkpoints.map(\.runID)).sorted().joined(separator: ", ")
    }

    private func insert(_ checkpoint: StepCheckpoint) throws {
        try query(
            """
            INSERT INTO step_checkpoints (run_id, step_id, status, input, output, error, attempts, started_at, ended_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
            ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, input = excluded.input,
                output = excluded.output, error = excluded.error, attempts = excluded.attempts,
                started_at = excluded.started_at, ended_at = excluded.ended_at
            """,
            [
                .text(checkpoint.runID), .text(checkpoint.stepID), .text(checkpoint.status),
                .optionalJSON(checkpoint.input), .optionalJSON(checkpoint.output), .optionalJSON(checkpoint.error),
                .int(checkpoint.attempts), .optionalTime(checkpoint.startedAt), .optionalTime(checkpoint.endedAt),
            ])
    }

    package func checkpoints(runID: String) async throws -> [StepCheckpoint] {
        try await serialized("reading the checkpoints of run \(runID)") { [self] in
            try query(
                """
                SELECT run_id, step_id, status, input, output, error, attempts, started_at, ended_at
                FROM step_checkpoints WHERE run_id = ?1 ORDER BY rowid
                """, [.text(runID)]
            ).map { row in
                try SQLiteRow.decoding("run '\(runID)', checkpoint of step '\(row.optionalText("step_id") ?? "?")'") {
                StepCheckpoint(
                    runID: try row.text("run_id"), stepID: try row.text("step_id"), status: try row.text("status"),
                    input: try row.optionalJSON("input"), output: try row.optionalJSON("output"),
                    error: try row.optionalJSON("error"), attempts: try row.int("attempts"),
                    startedAt: try row.optionalTime("started_at"), endedAt: try row.optionalTime("ended_at"))
                }
            }
        }
    }

    // MARK: Pauses

    package func putPause(_ pause: PauseRecord) async throws {
        try await serialized("saving the pause \(pause.resumeKey) of run \(pause.runID)") { [self] in
            try query(
                """
                INSERT INTO pauses (run_id, resume_key, step_id, value, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT (run_id, resume_key) DO UPDATE SET step_id = excluded.step_id, value = excluded.value,
                    created_at = excluded.created_at
                """,
                [.text(pause.runID), .text(pause.resumeKey), .text(pause.stepID), .json(pause.value), .time(pause.createdAt)])
        }
    }

    package func pauses(runID: String) async throws -> [PauseRecord] {
        try await serialized("reading the pauses of run \(runID)") { [self] in
            try query(
                "SELECT run_id, resume_key, step_id, value, created_at FROM pauses WHERE run_id = ?1 ORDER BY rowid",
                [.text(runID)]
            ).map { row in
                try SQLiteRow.decoding("run '\(runID)', pause '\(row.optionalText("resume_key") ?? "?")'") {
                    PauseRecord(
                        runID: try row.text("run_id"), resumeKey: try row.text("resume_key"), stepID: try row.text("step_id"),
                        value: try row.json("value"), createdAt: try row.time("created_at"))
                }
            }
        }
    }

    @discardableResult
    package func deletePause(runID: String, resumeKey: String) async throws -> Bool {
        try await serialized("deleting the pause \(resumeKey) of run \(runID)") { [self] in
            try !query(
                "DELETE FROM pauses WHERE run_id = ?1 AND resume_key = ?2 RETURNING step_id",
                [.text(runID), .text(resumeKey)]
            ).isEmpty
        }
    }

    // MARK: Blobs

    @discardableResult
    public func putBlob(_ value: JSON) async throws -> String {
        let bytes = value.serializedBytes()  // the id is Stepflow's: keys in document order
        let id = ContentHash.sha256Hex(bytes)
        try await serialized("saving blob \(id)") { [self] in
            try query(
                "INSERT INTO blobs (id, data, size, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO NOTHING",
                [.text(id), .text(String(decoding: bytes, as: UTF8.self)), .int(bytes.count), .time(Date())])
        }
        return id
    }

    public func blob(id: String) async throws -> JSON? {
        try await serialized("reading blob \(id)") { [self] in
            try query("SELECT data FROM blobs WHERE id = ?1", [.text(id)]).first.map { try $0.json("data") }
        }
    }

    @discardableResult
    public func putBlob(_ value: JSON, type: BlobType) async throws -> String {
        guard type == .flow else { return try await putBlob(value) }
        let bytes = value.serializedBytes()
        let id = ContentHash.sha256Hex(bytes)
        try await serialized("saving blob \(id)") { [self] in
            // A value stored as data before becomes a flow blob; NULL and 'data' both read as data.
            try query(
                """
                INSERT INTO blobs (id, data, size, created_at, type) VALUES (?1, ?2, ?3, ?4, 'flow')
                ON CONFLICT (id) DO UPDATE SET type = 'flow'
                """,
                [.text(id), .text(String(decoding: bytes, as: UTF8.self)), .int(bytes.count), .time(Date())])
        }
        return id
    }

    @discardableResult
    public func putBytes(_ bytes: [UInt8], type: String) async throws -> String {
        let id = ContentHash.sha256Hex(bytes)
        try await serialized("saving bytes blob \(id)") { [self] in
            try query(
                """
                INSERT INTO byte_blobs (id, type, data, size, created_at) VALUES (?1, ?2, coalesce(?3, zeroblob(0)), ?4, ?5)
                ON CONFLICT (id) DO NOTHING
                """,
                // (coalesce: files written when an empty blob was bound as NULL read back as empty.)
                [.text(id), .text(type), .blob(bytes), .int(bytes.count), .time(Date())])
        }
        return id
    }

    public func storedBlob(id: String) async throws -> StoredBlob? {
        try await serialized("reading blob \(id)") { [self] in
            if let row = try query("SELECT data, type FROM blobs WHERE id = ?1", [.text(id)]).first {
                return StoredBlob(content: .json(try row.json("data")), type: row.optionalText("type") ?? BlobType.data.rawValue)
            }
            guard let row = try query("SELECT data, type FROM byte_blobs WHERE id = ?1", [.text(id)]).first else {
                return nil
            }
            return StoredBlob(content: .bytes(try row.bytes("data")), type: try row.text("type"))
        }
    }

    // MARK: Result cache

    public func cachedResult(key: String) async throws -> CacheEntry? {
        try await serialized("reading the cache") { [self] in
            // A hit becomes the most recently used entry.
            try query(
                """
                UPDATE result_cache SET last_used = (SELECT max(last_used) FROM result_cache) + 1
                WHERE key = ?1 RETURNING key, value, created_at, size
                """, [.text(key)]
            ).first.map { row in
                CacheEntry(
                    key: try row.text("key"), value: try row.json("value"), createdAt: try row.time("created_at"),
                    byteSize: try row.int("size"))
            }
        }
    }

    package func putCachedResult(key: String, value: JSON) async throws {
        let text = value.serialized()
        let size = text.utf8.count
        let limit = cacheLimit
        try await serialized("saving to the cache") { [self] in
            if let maxEntries = limit.maxEntries, maxEntries <= 0 { return }
            if let maxBytes = limit.maxBytes, size > maxBytes {
                try query("DELETE FROM result_cache WHERE key = ?1", [.text(key)])
                return
            }
            try query(
                """
                INSERT INTO result_cache (key, value, size, created_at, last_used)
                VALUES (?1, ?2, ?3, ?4, coalesce((SELECT max(last_used) FROM result_cache), 0) + 1)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value, size = excluded.size,
                    created_at = excluded.created_at, last_used = excluded.last_used
                """, [.text(key), .text(text), .int(size), .time(Date())])
            try evict(limit, keeping: key)
        }
    }

    /// Deletes least recently used entries until the limit holds. The entry just written stays:
    /// `putCachedResult` checked that it fits by itself.
    private func evict(_ limit: CacheLimit, keeping key: String) throws {
        while true {
            let stats = try cacheStats()
            var excessEntries = limit.maxEntries.map { stats.entries - $0 } ?? 0
            var excessBytes = limit.maxBytes.map { stats.bytes - $0 } ?? 0
            guard excessEntries > 0 || excessBytes > 0 else { return }
            let oldest = try query(
                "SELECT size, last_used FROM result_cache WHERE key <> ?1 ORDER BY last_used LIMIT ?2",
                [.text(key), .int(min(max(excessEntries, 16), 1024))])
            var cutoff: Int?
            for row in oldest where excessEntries > 0 || excessBytes > 0 {
                cutoff = try row.int("last_used")
                excessEntries -= 1
                excessBytes -= try row.int("size")
            }
            guard let cutoff else { return }
            try query("DELETE FROM result_cache WHERE last_used <= ?1 AND key <> ?2", [.int(cutoff), .text(key)])
        }
    }

    private func cacheStats() throws -> CacheStatistics {
        guard let row = try query("SELECT entries, bytes FROM result_cache_stats WHERE id = 1").first else {
            return CacheStatistics(entries: 0, bytes: 0)
        }
        return CacheStatistics(entries: try row.int("entries"), bytes: try row.int("bytes"))
    }

    @discardableResult
    public func clearCache() async throws -> Int {
        try await serialized("clearing the cache") { [self] in
            try transaction {
                let count = try cacheStats().entries
                try query("DELETE FROM result_cache")
                return count
            }
        }
    }

    public func cacheStatistics() async throws -> CacheStatistics {
        try await serialized("reading the cache size") { [self] in try cacheStats() }
    }
}

// MARK: - Binding and reading values

extension SQLiteData {
    static func json(_ value: JSON) -> SQLiteData { .text(value.serialized()) }
    static func optionalJSON(_ value: JSON?) -> SQLiteData { value.map(json) ?? .null }
    static func optionalText(_ value: String?) -> SQLiteData { value.map { .text($0) } ?? .null }
    static func int(_ value: Int) -> SQLiteData { .integer(Int64(value)) }
    static func time(_ value: Date) -> SQLiteData { .integer(Int64(value.storeMilliseconds)) }
    static func optionalTime(_ value: Date?) -> SQLiteData { value.map(time) ?? .null }
}

extension SQLiteRow {
    /// Decodes one record, naming it (`run 'r1'`) in the error if a column cannot be read.
    static func decoding<T>(_ record: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as RunStoreError where error.kind == .corruptRecord {
            throw RunStoreError(.corruptRecord, "\(record): \(error.message)")
        }
    }

    private func value(_ column: String) throws -> SQLiteData {
        guard let data = self.column(column) else {
            throw RunStoreError(.corruptRecord, "the run store has no column '\(column)'")
        }
        return data
    }

    func text(_ column: String) throws -> String {
        guard case .text(let text) = try value(column) else {
            throw RunStoreError(.corruptRecord, "column '\(column)' of the run store is not text")
        }
        return text
    }

    func bytes(_ column: String) throws -> [UInt8] {
        switch try value(column) {
        case .blob(let bytes): return bytes
        default: throw RunStoreError(.corruptRecord, "column '\(column)' of the run store is not a blob")
        }
    }

    func runStatus(_ column: String) throws -> RunRecord.Status {
        let text = try text(column)
        guard let status = RunRecord.Status(rawValue: text) else {
            throw RunStoreError(.corruptRecord, "column '\(column)' holds an unknown run status '\(text)'")
        }
        return status
    }

    func optionalText(_ column: String) -> String? {
        if case .text(let text) = self.column(column) { return text }
        return nil
    }

    func int(_ column: String) throws -> Int {
        guard case .integer(let value) = try value(column) else {
            throw RunStoreError(.corruptRecord, "column '\(column)' of the run store is not an integer")
        }
        return Int(value)
    }

    func time(_ column: String) throws -> Date { Date(storeMilliseconds: Int64(try int(column))) }

    func optionalTime(_ column: String) throws -> Date? {
        if case .null = try value(column) { return nil }
        return try time(column)
    }

    func json(_ column: String) throws -> JSON {
        let text = try text(column)
        do {
            return try JSON(parsing: text, maximumDepth: JSONParser.recordDepth)
        } catch {
            throw RunStoreError(.corruptRecord, "column '\(column)' of the run store holds invalid JSON: \(error)")
        }
    }

    func optionalJSON(_ column: String) throws -> JSON? {
        if case .null = try value(column) { return nil }
        return try json(column)
    }
}

// MARK: - For tests and diagnostics

extension SQLiteRunStore {
    /// Runs one SQL statement as it is, returning each row as column name to text.
    @discardableResult
    func rawQuery(_ sql: String) async throws -> [[String: String]] {
        try await serialized("running raw SQL") { [self] in
            try query(sql).map { row in
                var values: [String: String] = [:]
                for column in row.namedValues { values[column.name] = column.data.string ?? "NULL" }
                return values
            }
        }
    }

    /// The value of `PRAGMA name`, as text.
    func pragma(_ name: String) async throws -> String? {
        try await rawQuery("PRAGMA \(name)").first?.values.first
    }
}
