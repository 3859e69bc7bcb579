package import NodalCore
package import NodalJSON
package import FoundationEssentials
import PostgresNIO

// The work queue (`WorkQueueStorage`) in `work_items` and `workers`. Every change to a run's
// items that can settle the run takes the run's row lock first (`SELECT ... FOR UPDATE` on
// `service_runs`), so two workers ending a run's last two items at once cannot both see the other's
// as still going: one of them settles it. Notifications (`pg_notify`) are sent inside the
// transaction, so PostgreSQL delivers them only once it committed.

extension PostgresRunStore: WorkQueueStorage {
    /// The one channel the queue notifies on; payloads are `queued`, `settled:<id>`, `canceled:<id>`.
    static let workChannel = "nodal_work"

    package func putQueuedServiceRun(_ run: ServiceRunRecord, queuedAt: Date) async throws {
        try await call("queueing service run \(run.id)") {
            try await transaction { transaction in
                try await transaction.query(Self.upsert(run))
                try await transaction.query(
                    """
                    INSERT INTO work_items (run_id, item_index, state, queued_at)
                    SELECT \(run.id), n, 'queued', \(queuedAt.storeMilliseconds) FROM generate_series(0, \(run.itemCount) - 1) AS n
                    ON CONFLICT DO NOTHING
                    """)
                try await transaction.query("SELECT pg_notify(\(Self.workChannel), 'queued')")
                if run.itemCount == 0 { _ = try await settle(run.id, in: transaction, now: queuedAt) }
            }
        }
    }

    package func claimWork(worker: String, limit: Int, now: Date, leaseUntil: Date) async throws -> [WorkClaim] {
        guard limit > 0 else { return [] }
        return try await call("claiming work for worker \(worker)") {
            // One statement: pick (skipping rows another claimer has locked), drop the run leases a
            // dead worker's engine left on the picked items, take them.
            let rows = try await query(
                """
                WITH picked AS (
                    SELECT run_id, item_index, worker_id AS previous FROM work_items
                    WHERE state = 'queued' OR (state = 'running' AND lease_expires_at <= \(now.storeMilliseconds))
                    ORDER BY queued_at, run_id, item_index
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED
                ), dropped AS (
                    DELETE FROM run_leases USING picked
                    WHERE picked.previous IS NOT NULL AND run_leases.run_id = picked.run_id || '-' || picked.item_index
                        AND run_leases.owner = picked.previous
                )
                UPDATE work_items SET state = 'running', worker_id = \(worker), lease_expires_at = \(leaseUntil.storeMilliseconds),
                    attempts = work_items.attempts + 1
                FROM picked WHERE work_items.run_id = picked.run_id AND work_items.item_index = picked.item_index
                RETURNING work_items.run_id, work_items.item_index, work_items.attempts, work_items.given_back,
                    work_items.resume_values, work_items.cancel_requested
                """)
            return try rows.map { row in
                let row = StoredRow(row)
                return try StoredRow.decoding("a work item") {
                    let values = try row.optionalJSON("resume_values").map { json -> [String: JSON] in
                        guard case .object(let object) = json else {
                            throw RunStoreError(.corruptRecord, "column 'resume_values' is not a JSON object")
                        }
                        return Dictionary(object.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
                    }
                    return WorkClaim(
                        item: WorkItemKey(runID: try row.text("run_id"), index: try row.int("item_index")),
                        attempt: try row.int("attempts"), givenBack: try row.int("given_back"), resumeValues: values,
                        cancelRequested: try row.bool("cancel_requested"))
                }
            }
        }
    }

    package func renewWork(_ worker: WorkerRecord, leaseUntil: Date) async throws -> WorkRenewal {
        try await call("renewing the work of worker \(worker.id)") {
            let beat = try await query(
                """
                UPDATE workers SET heartbeat_at = \(worker.heartbeatAt.storeMilliseconds), items = \(worker.items),
                    draining = \(worker.draining), concurrency = \(worker.concurrency)
                WHERE id = \(worker.id) RETURNING id
                """)
            // Its row was removed (by hand, or a cleanup that thought it dead): it is back.
            if beat.isEmpty { try await query(Self.upsert(worker)) }
            // Rows locked in key order, as a cancel locks a run's rows, so the two cannot deadlock;
            // a row a cancel holds is skipped this beat, not waited for (the next beat renews it).
            let rows = try await query(
                """
                UPDATE work_items SET lease_expires_at = \(leaseUntil.storeMilliseconds)
                WHERE (run_id, item_index) IN (
                    SELECT run_id, item_index FROM work_items WHERE worker_id = \(worker.id) AND state = 'running'
                    ORDER BY run_id, item_index FOR UPDATE SKIP LOCKED)
                RETURNING run_id, item_index, cancel_requested
                """)
            var renewal = WorkRenewal()
            for row in rows {
                let row = StoredRow(row)
                let key = try StoredRow.decoding("a work item") { WorkItemKey(runID: try row.text("run_id"), index: try row.int("item_index")) }
                renewal.held.insert(key)
                if try row.bool("cancel_requested") { renewal.canceled.insert(key) }
            }
            return renewal
        }
    }

    package func finishWork(_ item: WorkItemKey, worker: String, status: RunRecord.Status, now: Date) async throws -> WorkFinish {
        try await call("recording the end of \(item)") {
            try await transaction { transaction in
                guard try await transaction.query("SELECT 1 FROM service_runs WHERE id = \(item.runID) FOR UPDATE").first != nil else {
                    return .notHeld
                }
                let state = status == .paused ? "paused" : "done"
                let taken = try await transaction.query(
                    """
                    UPDATE work_items SET state = \(state), worker_id = NULL, lease_expires_at = NULL, resume_values = NULL
                    WHERE run_id = \(item.runID) AND item_index = \(item.index) AND state = 'running' AND worker_id = \(worker)
                    RETURNING item_index
                    """)
                guard !taken.isEmpty else { return .notHeld }
                let column: String
                switch status {
                case .success: column = "succeeded"
                case .canceled: column = "canceled"
                case .paused: column = "paused"
                case .failed, .running: column = "failed"
                }
                try await transaction.query(
                    "UPDATE service_runs SET \(unescaped: column) = \(unescaped: column) + 1 WHERE id = \(item.runID)")
                if status != .paused {
                    // The engine writes the item's end itself; if the store failed it then, the
                    // record still says running, and readers would take the item for unfinished.
                    try await transaction.query(
                        """
                        UPDATE runs SET status = \(status.rawValue), updated_at = \(now.storeMilliseconds)
                        WHERE id = \(item.itemRunID) AND status = 'running'
                        """)
                }
                return .recorded(settled: try await settle(item.runID, in: transaction, now: now))
            }
        }
    }

    package func releaseWork(_ item: WorkItemKey, worker: String) async throws {
        try await call("giving back \(item)") {
            try await transaction { transaction in
                try await transaction.query(
                    """
                    UPDATE work_items SET state = 'queued', worker_id = NULL, lease_expires_at = NULL, given_back = given_back + 1
                    WHERE run_id = \(item.runID) AND item_index = \(item.index) AND state = 'running' AND worker_id = \(worker)
                    """)
                try await transaction.query("SELECT pg_notify(\(Self.workChannel), 'queued')")
            }
        }
    }

    package func cancelQueuedRun(id: String, now: Date) async throws -> Bool {
        try await call("cancelling service run \(id)") {
            try await transaction { transaction in
                guard let row = try await transaction.query("SELECT status FROM service_runs WHERE id = \(id) FOR UPDATE").first else {
                    return false
                }
                let status = try StoredRow.decoding("service run '\(id)'") { try StoredRow(row).runStatus("status") }
                guard status == .running || status == .paused else { return false }
                // What nobody runs ends now (queued and paused items, and running ones whose worker's
                // lease ran out); what runs is marked for its worker's heartbeat (and told). Each a
                // plain update on the key's prefix, in key order: no join for a planner to get wrong
                // on a table whose statistics are behind.
                let unrun = try await transaction.query(
                    """
                    UPDATE work_items SET state = 'done', resume_values = NULL, worker_id = NULL, lease_expires_at = NULL
                    WHERE run_id = \(id) AND (state = 'queued' OR (state = 'running' AND lease_expires_at <= \(now.storeMilliseconds)))
                    RETURNING item_index
                    """)
                let wasPaused = try await transaction.query(
                    "UPDATE work_items SET state = 'done', resume_values = NULL WHERE run_id = \(id) AND state = 'paused' RETURNING item_index")
                try await transaction.query(
                    """
                    UPDATE service_runs SET canceled = canceled + \(unrun.count + wasPaused.count), paused = greatest(paused - \(wasPaused.count), 0)
                    WHERE id = \(id)
                    """)
                try await transaction.query(
                    "UPDATE work_items SET cancel_requested = true WHERE run_id = \(id) AND state = 'running'")
                try await transaction.query("SELECT pg_notify(\(Self.workChannel), 'canceled:' || \(id)::text)")
                _ = try await settle(id, in: transaction, now: now)
                return true
            }
        }
    }

    package func resumeQueuedItems(runID: String, answers: [Int: [String: JSON]], now: Date) async throws -> [Int] {
        try await call("resuming service run \(runID)") {
            try await transaction { transaction in
                guard let row = try await transaction.query("SELECT status FROM service_runs WHERE id = \(runID) FOR UPDATE").first else {
                    return []
                }
                let status = try StoredRow.decoding("service run '\(runID)'") { try StoredRow(row).runStatus("status") }
                guard status == .running || status == .paused else { return [] }
                var queued: [Int] = []
                for (index, values) in answers.sorted(by: { $0.key < $1.key }) {
                    let object = JSON.object(JSONObject(values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
                    let taken = try await transaction.query(
                        """
                        UPDATE work_items SET state = 'queued', resume_values = \(object.serialized()), queued_at = \(now.storeMilliseconds)
                        WHERE run_id = \(runID) AND item_index = \(index) AND state = 'paused' RETURNING item_index
                        """)
                    if !taken.isEmpty { queued.append(index) }
                }
                guard !queued.isEmpty else { return [] }
                try await transaction.query(
                    """
                    UPDATE service_runs SET paused = greatest(paused - \(queued.count), 0), status = 'running', completed_at = NULL
                    WHERE id = \(runID)
                    """)
                try await transaction.query("SELECT pg_notify(\(Self.workChannel), 'queued')")
                return queued
            }
        }
    }

    package func registerWorker(_ worker: WorkerRecord) async throws {
        try await call("registering worker \(worker.id)") {
            // Workers gone for a day are forgotten: the list shows who is, or recently was, there.
            try await query("DELETE FROM workers WHERE heartbeat_at < \(worker.heartbeatAt.storeMilliseconds - 86_400_000)")
            try await query(Self.upsert(worker))
        }
    }

    package func removeWorker(id: String) async throws {
        try await call("removing worker \(id)") {
            try await transaction { transaction in
                try await transaction.query(
                    "UPDATE work_items SET state = 'queued', worker_id = NULL, lease_expires_at = NULL WHERE worker_id = \(id) AND state = 'running'")
                try await transaction.query("DELETE FROM workers WHERE id = \(id)")
                try await transaction.query("SELECT pg_notify(\(Self.workChannel), 'queued')")
            }
        }
    }

    package func workers(since: Date) async throws -> [WorkerRecord] {
        try await call("listing workers") {
            try await query(
                """
                SELECT id, host, pid, started_at, heartbeat_at, concurrency, items, draining, lease_ms FROM workers
                WHERE heartbeat_at >= \(since.storeMilliseconds) ORDER BY started_at, id
                """
            ).map { row in
                let row = StoredRow(row)
                return try StoredRow.decoding("worker '\(row.optionalText("id") ?? "?")'") {
                    WorkerRecord(
                        id: try row.text("id"), host: try row.text("host"), pid: Int32(clamping: try row.int("pid")),
                        startedAt: try row.time("started_at"), heartbeatAt: try row.time("heartbeat_at"),
                        concurrency: try row.int("concurrency"), items: try row.int("items"), draining: try row.bool("draining"),
                        lease: .milliseconds(try row.int("lease_ms")))
                }
            }
        }
    }

    // MARK: Helpers

    private static func upsert(_ worker: WorkerRecord) -> PostgresQuery {
        """
        INSERT INTO workers (id, host, pid, started_at, heartbeat_at, concurrency, items, draining, lease_ms)
        VALUES (\(worker.id), \(worker.host), \(Int(worker.pid)), \(worker.startedAt.storeMilliseconds),
            \(worker.heartbeatAt.storeMilliseconds), \(worker.concurrency), \(worker.items), \(worker.draining),
            \(worker.leaseMilliseconds))
        ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,
            heartbeat_at = excluded.heartbeat_at, concurrency = excluded.concurrency, items = excluded.items,
            draining = excluded.draining, lease_ms = excluded.lease_ms
        """
    }

    /// In a transaction holding the run's row lock: when none of its items is queued or running,
    /// sets the run's status from its counts (paused while an item waits for an answer) and tells
    /// the listeners. Returns that status, or nil while items are still going.
    private func settle(_ runID: String, in transaction: Transaction, now: Date) async throws -> RunRecord.Status? {
        // The counts are the queue's own (this file keeps them item by item), so what is still
        // going is the rest: no count of the run's items.
        guard let row = try await transaction.query(
            "SELECT item_count, succeeded, failed, canceled, paused FROM service_runs WHERE id = \(runID)"
        ).first else { return nil }
        let stored = StoredRow(row)
        let (going, waiting, failed, canceled) = try StoredRow.decoding("service run '\(runID)'") {
            let count = try stored.int("item_count")
            let succeeded = try stored.int("succeeded"), failed = try stored.int("failed")
            let canceled = try stored.int("canceled"), paused = try stored.int("paused")
            return (count - succeeded - failed - canceled - paused, paused, failed, canceled)
        }
        guard going == 0 else { return nil }
        let status: RunRecord.Status = waiting > 0 ? .paused : canceled > 0 ? .canceled : failed > 0 ? .failed : .success
        try await transaction.query(
            """
            UPDATE service_runs SET status = \(status.rawValue), completed_at = \(status == .paused ? nil : now.storeMilliseconds)
            WHERE id = \(runID)
            """)
        try await transaction.query("SELECT pg_notify(\(Self.workChannel), 'settled:' || \(runID)::text)")
        return status
    }
}

extension WorkNotification {
    /// A notification's payload on `PostgresRunStore.workChannel`; nil for one this Nodal does not know.
    init?(payload: String) {
        if payload == "queued" {
            self = .workQueued
        } else if payload.hasPrefix("settled:") {
            self = .runSettled(String(payload.dropFirst("settled:".count)))
        } else if payload.hasPrefix("canceled:") {
            self = .runCanceled(String(payload.dropFirst("canceled:".count)))
        } else {
            return nil
        }
    }
}
