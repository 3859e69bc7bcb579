public import NodalCore
package import NodalJSON
package import FoundationEssentials
import PostgresNIO

// Runs, leases, batch items, checkpoints and pause records. Upserts are `INSERT ... ON CONFLICT
// DO UPDATE`, which keeps the row's `seq`, so its place in lists.

extension PostgresRunStore {
    private static let runColumns =
        "id, flow_name, flow_path, flow_hash, input, status, created_at, updated_at, result, parent_run_id, root_run_id"

    // MARK: Runs

    package func putRun(_ run: RunRecord) async throws {
        try await call("saving run \(run.id)") {
            try await query(
                """
                INSERT INTO runs (\(unescaped: Self.runColumns))
                VALUES (\(run.id), \(run.flowName), \(run.flowPath), \(run.flowHash), \(run.input.serialized()),
                    \(run.status.rawValue), \(run.createdAt.storeMilliseconds), \(run.updatedAt.storeMilliseconds),
                    \(run.result?.serialized()), \(run.parentRunID), \(run.rootRunID))
                ON CONFLICT (id) DO UPDATE SET flow_name = excluded.flow_name, flow_path = excluded.flow_path,
                    flow_hash = excluded.flow_hash, input = excluded.input, status = excluded.status,
                    created_at = excluded.created_at, updated_at = excluded.updated_at, result = excluded.result,
                    parent_run_id = excluded.parent_run_id, root_run_id = excluded.root_run_id
                """)
        }
    }

    package func updateRun(id: String, status: RunRecord.Status, result: JSON?, updatedAt: Date) async throws {
        let rows = try await call("updating run \(id)") {
            try await query(
                """
                UPDATE runs SET status = \(status.rawValue), result = \(result?.serialized()), updated_at = \(updatedAt.storeMilliseconds)
                WHERE id = \(id) RETURNING seq
                """)
        }
        if rows.isEmpty { throw RunStoreError(.runNotFound, "no run with id '\(id)' in the run store \(location)", path: location.description) }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await call("reading run \(id)") {
            try await query("SELECT \(unescaped: Self.runColumns) FROM runs WHERE id = \(id)").first.map(runRecord)
        }
    }

    public func listRuns(limit: Int) async throws -> [RunRecord] {
        try await call("listing runs") {
            try await query("SELECT \(unescaped: Self.runColumns) FROM runs ORDER BY created_at DESC, seq DESC LIMIT \(max(0, limit))")
                .map(runRecord)
        }
    }

    @discardableResult
    public func deleteRun(id: String) async throws -> Bool {
        try await call("deleting run \(id)") {
            try await transaction { transaction in
                // Checkpoints and pause records go with it (ON DELETE CASCADE); the lease has no key.
                try await transaction.query("DELETE FROM run_leases WHERE run_id = \(id)")
                return try await !transaction.query("DELETE FROM runs WHERE id = \(id) RETURNING seq").isEmpty
            }
        }
    }

    private func runRecord(_ row: PostgresRow) throws -> RunRecord {
        let row = StoredRow(row)
        return try StoredRow.decoding("run '\(row.optionalText("id") ?? "?")'") {
            RunRecord(
                id: try row.text("id"), flowName: try row.text("flow_name"), flowPath: row.optionalText("flow_path"),
                flowHash: row.optionalText("flow_hash"), input: try row.json("input"), status: try row.runStatus("status"),
                createdAt: try row.time("created_at"), updatedAt: try row.time("updated_at"),
                result: try row.optionalJSON("result"), parentRunID: row.optionalText("parent_run_id"),
                rootRunID: row.optionalText("root_run_id"))
        }
    }

    // MARK: Leases

    package func claimLease(_ lease: RunLease, now: Date, replacing: String?) async throws -> LeaseClaim {
        try await call("claiming run \(lease.runID)") {
            // One statement takes the lease where it is free, expired, ours, or the dead holder's
            // the caller names: PostgreSQL's ON CONFLICT makes the check and the write one step
            // for every process sharing the database. When it takes nothing, the holder is read;
            // if the holder let go in between, the claim is tried again.
            for _ in 0..<5 {
                let taken = try await query(
                    """
                    INSERT INTO run_leases (run_id, owner, host, pid, expires_at)
                    VALUES (\(lease.runID), \(lease.owner), \(lease.host), \(Int(lease.pid)), \(lease.expiresAt.storeMilliseconds))
                    ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid,
                        expires_at = excluded.expires_at
                    WHERE run_leases.owner = excluded.owner OR run_leases.expires_at <= \(now.storeMilliseconds)
                        OR run_leases.owner = \(replacing)
                    RETURNING owner
                    """)
                if !taken.isEmpty { return .claimed }
                if let holder = try await query("SELECT * FROM run_leases WHERE run_id = \(lease.runID)").first {
                    return .heldBy(try runLease(holder))
                }
            }
            throw RunStoreError(
                .database, "claiming run \(lease.runID) in the run store \(location) failed: its lease kept changing hands",
                path: location.description)
        }
    }

    package func renewLease(runID: String, owner: String, expiresAt: Date) async throws -> Bool {
        try await call("renewing the lease of run \(runID)") {
            try await !query(
                "UPDATE run_leases SET expires_at = \(expiresAt.storeMilliseconds) WHERE run_id = \(runID) AND owner = \(owner) RETURNING owner"
            ).isEmpty
        }
    }

    package func releaseLease(runID: String, owner: String) async throws {
        try await call("releasing run \(runID)") {
            try await query("DELETE FROM run_leases WHERE run_id = \(runID) AND owner = \(owner)")
        }
    }

    package func lease(runID: String) async throws -> RunLease? {
        try await call("reading the lease of run \(runID)") {
            try await query("SELECT * FROM run_leases WHERE run_id = \(runID)").first.map(runLease)
        }
    }

    private func runLease(_ row: PostgresRow) throws -> RunLease {
        let row = StoredRow(row)
        return RunLease(
            runID: try row.text("run_id"), owner: try row.text("owner"), host: try row.text("host"),
            pid: Int32(clamping: try row.int("pid")), expiresAt: try row.time("expires_at"))
    }

    // MARK: Batch items

    package func putBatchItems(_ items: [BatchItemRecord]) async throws {
        guard !items.isEmpty else { return }
        // One row per key, the last one given (one statement may not update a row twice).
        var seen = Set<ItemKey>()
        let unique = items.reversed().filter { seen.insert(ItemKey(batchID: $0.batchID, index: $0.index)).inserted }.reversed()
        let rows = Array(unique)
        try await call("saving batch items") {
            try await transaction { transaction in
                // Many rows per statement: one round trip per chunk (PostgreSQL takes 65,535 binds).
                let chunkSize = 1000
                var start = 0
                while start < rows.count {
                    let chunk = rows[start..<min(start + chunkSize, rows.count)]
                    var binds = PostgresBindings(capacity: chunk.count * 4)
                    var values: [String] = []
                    values.reserveCapacity(chunk.count)
                    for item in chunk {
                        let n = binds.count
                        values.append("($\(n + 1), $\(n + 2), $\(n + 3), $\(n + 4))")
                        binds.append(item.batchID)
                        binds.append(item.index)
                        binds.append(item.runID)
                        binds.append(item.status)
                    }
                    try await transaction.query(PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO batch_items (batch_id, item_index, run_id, status) VALUES \(values.joined(separator: ", "))
                            ON CONFLICT (batch_id, item_index) DO UPDATE SET run_id = excluded.run_id, status = excluded.status
                            """, binds: binds))
                    start += chunkSize
                }
            }
        }
    }

    private struct ItemKey: Hashable {
        var batchID: String
        var index: Int
    }

    package func batchItems(batchID: String) async throws -> [BatchItemRecord] {
        try await call("reading batch \(batchID)") {
            try await query(
                "SELECT batch_id, item_index, run_id, status FROM batch_items WHERE batch_id = \(batchID) ORDER BY item_index"
            ).map { row in
                let row = StoredRow(row)
                return BatchItemRecord(
                    batchID: try row.text("batch_id"), index: try row.int("item_index"), runID: row.optionalText("run_id"),
                    status: try row.text("status"))
            }
        }
    }

    // MARK: Checkpoints

    package func putCheckpoint(_ checkpoint: StepCheckpoint) async throws {
        try await call("saving the checkpoint of step \(checkpoint.stepID) of run \(checkpoint.runID)") {
            try await query(
                """
                INSERT INTO step_checkpoints (run_id, step_id, status, input, output, error, attempts, started_at, ended_at)
                VALUES (\(checkpoint.runID), \(checkpoint.stepID), \(checkpoint.status), \(checkpoint.input?.serialized()),
                    \(checkpoint.output?.serialized()), \(checkpoint.error?.serialized()), \(checkpoint.attempts),
                    \(checkpoint.startedAt?.storeMilliseconds), \(checkpoint.endedAt?.storeMilliseconds))
                ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, input = excluded.input,
                    output = excluded.output, error = excluded.error, attempts = excluded.attempts,
                    started_at = excluded.started_at, ended_at = excluded.ended_at
                """)
        }
    }

    /// Steps that finished together: one statement per 1,000 checkpoints, one commit for all.
    package func putCheckpoints(_ checkpoints: [StepCheckpoint]) async throws {
        guard checkpoints.count > 1 else {
            if let checkpoint = checkpoints.first { try await putCheckpoint(checkpoint) }
            return
        }
        // One row per key (one statement may not update a row twice): the last value given, in
        // the place of the first, as writing them one by one would leave them.
        var unique: [StepCheckpoint] = []
        var places: [[String]: Int] = [:]
        for checkpoint in checkpoints {
            if let place = places[[checkpoint.runID, checkpoint.stepID]] {
                unique[place] = checkpoint
            } else {
                places[[checkpoint.runID, checkpoint.stepID]] = unique.count
                unique.append(checkpoint)
            }
        }
        let rows = unique
        let runs = Set(rows.map(\.runID)).sorted().joined(separator: ", ")
        try await call("saving \(rows.count) checkpoints of run \(runs)") {
            try await transaction { transaction in
                var start = 0
                while start < rows.count {
                    let chunk = rows[start..<min(start + 1000, rows.count)]
                    var binds = PostgresBindings(capacity: chunk.count * 9)
                    var values: [String] = []
                    values.reserveCapacity(chunk.count)
                    for checkpoint in chunk {
                        let n = binds.count
                        values.append("(" + (1...9).map { "$\(n + $0)" }.joined(separator: ", ") + ")")
                        binds.append(checkpoint.runID)
                        binds.append(checkpoint.stepID)
                        binds.append(checkpoint.status)
                        binds.append(checkpoint.input?.serialized())
                        binds.append(checkpoint.output?.serialized())
                        binds.append(checkpoint.error?.serialized())
                        binds.append(checkpoint.attempts)
                        binds.append(checkpoint.startedAt?.storeMilliseconds)
                        binds.append(checkpoint.endedAt?.storeMilliseconds)
                    }
                    try await transaction.query(PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO step_checkpoints (run_id, step_id, status, input, output, error, attempts, started_at, ended_at)
                            VALUES \(values.joined(separator: ", "))
                            ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, input = excluded.input,
                                output = excluded.output, error = excluded.error, attempts = excluded.attempts,
                                started_at = excluded.started_at, ended_at = excluded.ended_at
                            """, binds: binds))
                    start += 1000
                }
            }
        }
    }

    package func checkpoints(runID: String) async throws -> [StepCheckpoint] {
        try await call("reading the checkpoints of run \(runID)") {
            try await query(
                """
                SELECT run_id, step_id, status, input, output, error, attempts, started_at, ended_at
                FROM step_checkpoints WHERE run_id = \(runID) ORDER BY seq
                """
            ).map { row in
                let row = StoredRow(row)
                return try StoredRow.decoding("run '\(runID)', checkpoint of step '\(row.optionalText("step_id") ?? "?")'") {
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
        try await call("saving the pause \(pause.resumeKey) of run \(pause.runID)") {
            try await query(
                """
                INSERT INTO pauses (run_id, resume_key, step_id, value, created_at)
                VALUES (\(pause.runID), \(pause.resumeKey), \(pause.stepID), \(pause.value.serialized()), \(pause.createdAt.storeMilliseconds))
                ON CONFLICT (run_id, resume_key) DO UPDATE SET step_id = excluded.step_id, value = excluded.value,
                    created_at = excluded.created_at
                """)
        }
    }

    package func pauses(runID: String) async throws -> [PauseRecord] {
        try await call("reading the pauses of run \(runID)") {
            try await query("SELECT run_id, resume_key, step_id, value, created_at FROM pauses WHERE run_id = \(runID) ORDER BY seq")
                .map { row in
                    let row = StoredRow(row)
                    return try StoredRow.decoding("run '\(runID)', pause '\(row.optionalText("resume_key") ?? "?")'") {
                        PauseRecord(
                            runID: try row.text("run_id"), resumeKey: try row.text("resume_key"), stepID: try row.text("step_id"),
                            value: try row.json("value"), createdAt: try row.time("created_at"))
                    }
                }
        }
    }

    @discardableResult
    package func deletePause(runID: String, resumeKey: String) async throws -> Bool {
        try await call("deleting the pause \(resumeKey) of run \(runID)") {
            try await !query("DELETE FROM pauses WHERE run_id = \(runID) AND resume_key = \(resumeKey) RETURNING step_id").isEmpty
        }
    }
}
