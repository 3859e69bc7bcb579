package import NodalCore
import NodalJSON
package import FoundationEssentials
import PostgresNIO

// The run service's runs (`ServiceRunStorage`) in `service_runs`. Filters are SQL, with the rules
// of `ServiceRunFilter.matches`, so a page costs what it returns.

extension PostgresRunStore {
    private static let serviceRunColumns = """
        id, flow_id, flow_name, status, request, item_count, succeeded, failed, canceled, paused, created_at,
        completed_at, parent_run_id, root_run_id, depth
        """

    /// The same, with the request left out (`ServiceRunFilter.includeRequest`): read as null.
    private static let serviceRunColumnsWithoutRequest = serviceRunColumns.replacing(" request,", with: " NULL::text AS request,")

    package func putServiceRun(_ run: ServiceRunRecord) async throws {
        try await call("saving service run \(run.id)") {
            try await query(Self.upsert(run))
        }
    }

    /// Inserts the run, or replaces every field of the one with its id (keeping its `seq`).
    static func upsert(_ run: ServiceRunRecord) -> PostgresQuery {
        """
        INSERT INTO service_runs (\(unescaped: serviceRunColumns))
        VALUES (\(run.id), \(run.flowID), \(run.flowName), \(run.status.rawValue), \(run.request.serialized()),
            \(run.itemCount), \(run.counts.succeeded), \(run.counts.failed), \(run.counts.canceled), \(run.counts.paused),
            \(run.createdAt.storeMilliseconds), \(run.completedAt?.storeMilliseconds), \(run.parentRunID), \(run.rootRunID),
            \(run.depth))
        ON CONFLICT (id) DO UPDATE SET flow_id = excluded.flow_id, flow_name = excluded.flow_name,
            status = excluded.status, request = excluded.request, item_count = excluded.item_count,
            succeeded = excluded.succeeded, failed = excluded.failed, canceled = excluded.canceled,
            paused = excluded.paused, created_at = excluded.created_at, completed_at = excluded.completed_at,
            parent_run_id = excluded.parent_run_id, root_run_id = excluded.root_run_id, depth = excluded.depth
        """
    }

    package func serviceRun(id: String) async throws -> ServiceRunRecord? {
        try await call("reading service run \(id)") {
            try await query("SELECT \(unescaped: Self.serviceRunColumns) FROM service_runs WHERE id = \(id)").first.map(serviceRunRecord)
        }
    }

    package func listServiceRuns(_ filter: ServiceRunFilter) async throws -> [ServiceRunRecord] {
        var conditions: [String] = []
        var binds = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        if let status = filter.status { conditions.append("status = \(bind(status.rawValue))") }
        if let flowName = filter.flowName { conditions.append("flow_name = \(bind(flowName))") }
        if let parent = filter.parentRunID { conditions.append("parent_run_id = \(bind(parent))") }
        if let root = filter.rootRunID {
            let placeholder = bind(root)
            conditions.append("(id = \(placeholder) OR root_run_id = \(placeholder))")
        }
        if filter.rootsOnly { conditions.append("parent_run_id IS NULL") }
        if let maxDepth = filter.maxDepth { conditions.append("depth <= \(bind(maxDepth))") }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = bind(max(0, filter.limit))
        let offset = bind(max(0, filter.offset))
        let columns = filter.includeRequest ? Self.serviceRunColumns : Self.serviceRunColumnsWithoutRequest
        let sql = """
            SELECT \(columns) FROM service_runs \(whereClause)
            ORDER BY created_at DESC, seq DESC LIMIT \(limit) OFFSET \(offset)
            """
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await call("listing service runs") {
            try await query(statement).map(serviceRunRecord)
        }
    }

    package func updateServiceRun(id: String, status: RunRecord.Status, counts: ServiceRunCounts, completedAt: Date?) async throws {
        let rows = try await call("updating service run \(id)") {
            try await query(
                """
                UPDATE service_runs SET status = \(status.rawValue), succeeded = \(counts.succeeded), failed = \(counts.failed),
                    canceled = \(counts.canceled), paused = \(counts.paused), completed_at = \(completedAt?.storeMilliseconds)
                WHERE id = \(id) RETURNING seq
                """)
        }
        if rows.isEmpty {
            throw RunStoreError(.runNotFound, "no service run with id '\(id)' in the run store \(location)", path: location.description)
        }
    }

    @discardableResult
    package func deleteServiceRun(id: String) async throws -> Bool {
        try await call("deleting service run \(id)") {
            try await transaction { transaction in
                guard let row = try await transaction.query("SELECT item_count FROM service_runs WHERE id = \(id) FOR UPDATE").first else {
                    return false
                }
                let itemCount = try StoredRow.decoding("service run '\(id)'") { try StoredRow(row).int("item_count") }
                // The items' ids, `<id>-0` to `<id>-<count - 1>`, made in SQL: one statement per
                // table however many items there are. Checkpoints and pauses go with their runs
                // (ON DELETE CASCADE); leases have no key to cascade from.
                try await transaction.query(
                    """
                    DELETE FROM run_leases WHERE run_id IN (SELECT \(id)::text || '-' || n FROM generate_series(0, \(itemCount) - 1) AS n)
                    """)
                try await transaction.query(
                    "DELETE FROM runs WHERE id IN (SELECT \(id)::text || '-' || n FROM generate_series(0, \(itemCount) - 1) AS n)")
                try await transaction.query("DELETE FROM service_runs WHERE id = \(id)")
                return true
            }
        }
    }

    private func serviceRunRecord(_ row: PostgresRow) throws -> ServiceRunRecord {
        let row = StoredRow(row)
        return try StoredRow.decoding("service run '\(row.optionalText("id") ?? "?")'") {
            ServiceRunRecord(
                id: try row.text("id"), flowID: try row.text("flow_id"), flowName: row.optionalText("flow_name"),
                status: try row.runStatus("status"), request: try row.optionalJSON("request") ?? .null,
                itemCount: try row.int("item_count"),
                counts: ServiceRunCounts(
                    succeeded: try row.int("succeeded"), failed: try row.int("failed"), canceled: try row.int("canceled"),
                    paused: try row.int("paused")),
                createdAt: try row.time("created_at"), completedAt: try row.optionalTime("completed_at"),
                parentRunID: row.optionalText("parent_run_id"), rootRunID: row.optionalText("root_run_id"),
                depth: try row.int("depth"))
        }
    }
}

// MARK: - For tests and diagnostics

extension PostgresRunStore {
    /// Runs one SQL statement as it is, returning each row as column name to text (NULL as "NULL").
    @discardableResult
    func rawQuery(_ sql: String) async throws -> [[String: String]] {
        try await call("running raw SQL") {
            try await query(PostgresQuery(unsafeSQL: sql)).map { row in
                var values: [String: String] = [:]
                for cell in row.makeRandomAccess() {
                    values[cell.columnName] = (try? cell.decode(String?.self)).flatMap { $0 } ?? "NULL"
                }
                return values
            }
        }
    }
}
