package import NodalCore
import NodalJSON
package import FoundationEssentials
import VaporCSQLite

// The run service's runs (`ServiceRunStorage`) in the `service_runs` table (schema version 4).
// Filters are SQL, with the rules of `ServiceRunFilter.matches`, so a page costs what it returns.

extension SQLiteRunStore {
    private static let serviceRunColumns = """
        id, flow_id, flow_name, status, request, item_count, succeeded, failed, canceled, paused, created_at,
        completed_at, parent_run_id, root_run_id, depth
        """

    /// The same, with the request left out (`ServiceRunFilter.includeRequest`): read as null.
    private static let serviceRunColumnsWithoutRequest = serviceRunColumns.replacing(" request,", with: " NULL AS request,")

    package func putServiceRun(_ run: ServiceRunRecord) async throws {
        let binds: [SQLiteData] = [
            .text(run.id), .text(run.flowID), .optionalText(run.flowName), .text(run.status.rawValue), .json(run.request),
            .int(run.itemCount), .int(run.counts.succeeded), .int(run.counts.failed), .int(run.counts.canceled),
            .int(run.counts.paused), .time(run.createdAt), .optionalTime(run.completedAt), .optionalText(run.parentRunID),
            .optionalText(run.rootRunID), .int(run.depth),
        ]
        try await serialized("saving service run \(run.id)") { [self] in
            // An upsert rather than INSERT OR REPLACE: the row keeps its seq, so its place in the list.
            try query(
                """
                INSERT INTO service_runs (\(Self.serviceRunColumns))
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                ON CONFLICT (id) DO UPDATE SET flow_id = excluded.flow_id, flow_name = excluded.flow_name,
                    status = excluded.status, request = excluded.request, item_count = excluded.item_count,
                    succeeded = excluded.succeeded, failed = excluded.failed, canceled = excluded.canceled,
                    paused = excluded.paused, created_at = excluded.created_at, completed_at = excluded.completed_at,
                    parent_run_id = excluded.parent_run_id, root_run_id = excluded.root_run_id, depth = excluded.depth
                """, binds)
        }
    }

    package func serviceRun(id: String) async throws -> ServiceRunRecord? {
        try await serialized("reading service run \(id)") { [self] in
            try query("SELECT \(Self.serviceRunColumns) FROM service_runs WHERE id = ?1", [.text(id)])
                .first.map(serviceRunRecord)
        }
    }

    package func listServiceRuns(_ filter: ServiceRunFilter) async throws -> [ServiceRunRecord] {
        var conditions: [String] = []
        var binds: [SQLiteData] = []
        func bind(_ value: SQLiteData) -> String {
            binds.append(value)
            return "?\(binds.count)"
        }
        if let status = filter.status { conditions.append("status = \(bind(.text(status.rawValue)))") }
        if let flowName = filter.flowName { conditions.append("flow_name = \(bind(.text(flowName)))") }
        if let parent = filter.parentRunID { conditions.append("parent_run_id = \(bind(.text(parent)))") }
        if let root = filter.rootRunID {
            let placeholder = bind(.text(root))
            conditions.append("(id = \(placeholder) OR root_run_id = \(placeholder))")
        }
        if filter.rootsOnly { conditions.append("parent_run_id IS NULL") }
        if let maxDepth = filter.maxDepth { conditions.append("depth <= \(bind(.int(maxDepth)))") }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = bind(.int(max(0, filter.limit)))
        let offset = bind(.int(max(0, filter.offset)))
        return try await serialized("listing service runs") { [self] in
            try query(
                """
                SELECT \(filter.includeRequest ? Self.serviceRunColumns : Self.serviceRunColumnsWithoutRequest) FROM service_runs \(whereClause)
                ORDER BY created_at DESC, seq DESC LIMIT \(limit) OFFSET \(offset)
                """, binds
            ).map(serviceRunRecord)
        }
    }

    package func updateServiceRun(id: String, status: RunRecord.Status, counts: ServiceRunCounts, completedAt: Date?) async throws {
        let rows = try await serialized("updating service run \(id)") { [self] in
            try query(
                """
                UPDATE service_runs SET status = ?1, succeeded = ?2, failed = ?3, canceled = ?4, paused = ?5, completed_at = ?6
                WHERE id = ?7 RETURNING seq
                """,
                [
                    .text(status.rawValue), .int(counts.succeeded), .int(counts.failed), .int(counts.canceled),
                    .int(counts.paused), .optionalTime(completedAt), .text(id),
                ])
        }
        if rows.isEmpty {
            throw RunStoreError(.runNotFound, "no service run with id '\(id)' in the run store \(path)", path: path)
        }
    }

    @discardableResult
    package func deleteServiceRun(id: String) async throws -> Bool {
        try await serialized("deleting service run \(id)") { [self] in
            try transaction {
                guard let row = try query("SELECT item_count FROM service_runs WHERE id = ?1", [.text(id)]).first else {
                    return false
                }
                let itemCount = try SQLiteRow.decoding("service run '\(id)'") { try row.int("item_count") }
                // The items' ids, `<id>-0` to `<id>-<count - 1>`, made in SQL: one statement per
                // table however many items there are. Checkpoints and pauses go with their runs
                // (ON DELETE CASCADE); leases have no key to cascade from.
                let items = """
                    WITH RECURSIVE item(n) AS (SELECT 0 WHERE ?2 > 0 UNION ALL SELECT n + 1 FROM item WHERE n + 1 < ?2)
                    """
                let binds: [SQLiteData] = [.text(id), .int(itemCount)]
                try query("\(items) DELETE FROM run_leases WHERE run_id IN (SELECT ?1 || '-' || n FROM item)", binds)
                try query("\(items) DELETE FROM runs WHERE id IN (SELECT ?1 || '-' || n FROM item)", binds)
                try query("DELETE FROM service_runs WHERE id = ?1", [.text(id)])
                return true
            }
        }
    }

    @discardableResult
    package func deleteBlob(id: String) async throws -> Bool {
        try await serialized("deleting blob \(id)") { [self] in
            try transaction {
                let json = try !query("DELETE FROM blobs WHERE id = ?1 RETURNING id", [.text(id)]).isEmpty
                let bytes = try !query("DELETE FROM byte_blobs WHERE id = ?1 RETURNING id", [.text(id)]).isEmpty
                return json || bytes
            }
        }
    }

    private func serviceRunRecord(_ row: SQLiteRow) throws -> ServiceRunRecord {
        try SQLiteRow.decoding("service run '\(row.optionalText("id") ?? "?")'") {
            ServiceRunRecord(
                id: try row.text("id"), flowID: try row.text("flow_id"), flowName: row.optionalText("flow_name"),
                status: try row.runStatus("status"), request: try row.optionalJSON("request") ?? .null, itemCount: try row.int("item_count"),
                counts: ServiceRunCounts(
                    succeeded: try row.int("succeeded"), failed: try row.int("failed"), canceled: try row.int("canceled"),
                    paused: try row.int("paused")),
                createdAt: try row.time("created_at"), completedAt: try row.optionalTime("completed_at"),
                parentRunID: row.optionalText("parent_run_id"), rootRunID: row.optionalText("root_run_id"),
                depth: try row.int("depth"))
        }
    }
}
