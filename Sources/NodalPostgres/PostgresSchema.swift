/// The PostgreSQL store's schema, as an append-only list of migrations.
///
/// The schema version lives in a table of its own, `nodal_schema` (one row, `version`; no table:
/// version 0, a database Nodal never wrote). Migration `n` (1-based) takes a database from version
/// `n - 1` to `n`. Opening runs the pending migrations in one transaction holding an advisory lock,
/// so two processes opening the same new database do not both migrate, and a failed migration
/// leaves the database as it was (PostgreSQL's DDL is transactional). A database whose version is
/// higher than `migrations.count` was written by a newer Nodal and is refused unchanged.
///
/// Rules for adding a migration: never edit a released one; append a new one. Times are `bigint`
/// milliseconds since 1970 (UTC). JSON is compact text, not `jsonb`: `jsonb` reorders object keys
/// and the store promises them back in the order written (`input::jsonb` works in `psql` to query
/// it). Every table's `seq` keeps the order rows were first written, which lists and checkpoint
/// reads promise.
enum PostgresSchema {
    static var version: Int { migrations.count }

    /// The key of the advisory lock (`pg_advisory_xact_lock`) migrations hold: "NODL".
    static let migrationLock: Int64 = 0x4E4F_444C

    static let migrations: [[String]] = [
        // 1: everything the SQLite store has at its version 4, in one step (this store starts there).
        [
            """
            CREATE TABLE runs (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id text NOT NULL UNIQUE,
                flow_name text NOT NULL,
                flow_path text,
                flow_hash text,
                input text NOT NULL,
                status text NOT NULL,
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL,
                result text,
                parent_run_id text,
                root_run_id text
            )
            """,
            "CREATE INDEX runs_by_created ON runs (created_at, seq)",
            "CREATE INDEX runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL",
            """
            CREATE TABLE batch_items (
                batch_id text NOT NULL,
                item_index bigint NOT NULL,
                run_id text,
                status text NOT NULL,
                PRIMARY KEY (batch_id, item_index)
            )
            """,
            """
            CREATE TABLE step_checkpoints (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                step_id text NOT NULL,
                status text NOT NULL,
                input text,
                output text,
                error text,
                attempts bigint NOT NULL,
                started_at bigint,
                ended_at bigint,
                UNIQUE (run_id, step_id)
            )
            """,
            """
            CREATE TABLE pauses (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                resume_key text NOT NULL,
                step_id text NOT NULL,
                value text NOT NULL,
                created_at bigint NOT NULL,
                UNIQUE (run_id, resume_key)
            )
            """,
            """
            CREATE TABLE blobs (
                id text PRIMARY KEY,
                data text NOT NULL,
                size bigint NOT NULL,
                created_at bigint NOT NULL,
                type text NOT NULL
            )
            """,
            """
            CREATE TABLE byte_blobs (
                id text PRIMARY KEY,
                type text NOT NULL,
                data bytea NOT NULL,
                size bigint NOT NULL,
                created_at bigint NOT NULL
            )
            """,
            // The cache's recency is a sequence: every hit or write takes the next number, from any
            // process, without reading the table's maximum.
            "CREATE SEQUENCE result_cache_use",
            """
            CREATE TABLE result_cache (
                key text PRIMARY KEY,
                value text NOT NULL,
                size bigint NOT NULL,
                created_at bigint NOT NULL,
                last_used bigint NOT NULL
            )
            """,
            "CREATE INDEX result_cache_by_use ON result_cache (last_used)",
            // Entry count and bytes kept up to date by a trigger, so enforcing the bound reads one
            // row rather than counting the table. The row's lock also orders concurrent cache writes.
            """
            CREATE TABLE result_cache_stats (
                id integer PRIMARY KEY CHECK (id = 1),
                entries bigint NOT NULL,
                bytes bigint NOT NULL
            )
            """,
            "INSERT INTO result_cache_stats (id, entries, bytes) VALUES (1, 0, 0)",
            """
            CREATE FUNCTION result_cache_count() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    UPDATE result_cache_stats SET entries = entries + 1, bytes = bytes + NEW.size WHERE id = 1;
                ELSIF TG_OP = 'DELETE' THEN
                    UPDATE result_cache_stats SET entries = entries - 1, bytes = bytes - OLD.size WHERE id = 1;
                ELSIF NEW.size <> OLD.size THEN
                    UPDATE result_cache_stats SET bytes = bytes - OLD.size + NEW.size WHERE id = 1;
                END IF;
                RETURN NULL;
            END
            $$
            """,
            """
            CREATE TRIGGER result_cache_counted AFTER INSERT OR DELETE OR UPDATE OF size ON result_cache
            FOR EACH ROW EXECUTE FUNCTION result_cache_count()
            """,
            // Run leases, one owner per run (RunLease). No foreign key: a new run is claimed before
            // its record is written.
            """
            CREATE TABLE run_leases (
                run_id text PRIMARY KEY,
                owner text NOT NULL,
                host text NOT NULL,
                pid bigint NOT NULL,
                expires_at bigint NOT NULL
            )
            """,
            // The run service's runs (ServiceRunRecord); items are runs `<id>-<index>` in `runs`.
            """
            CREATE TABLE service_runs (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id text NOT NULL UNIQUE,
                flow_id text NOT NULL,
                flow_name text,
                status text NOT NULL,
                request text NOT NULL,
                item_count bigint NOT NULL,
                succeeded bigint NOT NULL,
                failed bigint NOT NULL,
                canceled bigint NOT NULL,
                paused bigint NOT NULL,
                created_at bigint NOT NULL,
                completed_at bigint,
                parent_run_id text,
                root_run_id text,
                depth bigint NOT NULL
            )
            """,
            "CREATE INDEX service_runs_by_created ON service_runs (created_at, seq)",
            "CREATE INDEX service_runs_by_parent ON service_runs (parent_run_id) WHERE parent_run_id IS NOT NULL",
            "CREATE INDEX service_runs_by_root ON service_runs (root_run_id) WHERE root_run_id IS NOT NULL",
        ],
        // 2: the work queue (`WorkQueueStorage`): one row per item of a queued service run, and the
        // workers that claim them.
        [
            """
            CREATE TABLE work_items (
                run_id text NOT NULL REFERENCES service_runs (id) ON DELETE CASCADE,
                item_index bigint NOT NULL,
                state text NOT NULL CHECK (state IN ('queued', 'running', 'paused', 'done')),
                worker_id text,
                lease_expires_at bigint,
                attempts bigint NOT NULL DEFAULT 0,
                given_back bigint NOT NULL DEFAULT 0,
                queued_at bigint NOT NULL,
                resume_values text,
                cancel_requested boolean NOT NULL DEFAULT false,
                PRIMARY KEY (run_id, item_index)
            )
            """,
            // What a claim scans: only items not done, oldest queued first.
            "CREATE INDEX work_items_claimable ON work_items (queued_at, run_id, item_index) WHERE state IN ('queued', 'running')",
            "CREATE INDEX work_items_by_worker ON work_items (worker_id) WHERE state = 'running'",
            """
            CREATE TABLE workers (
                id text PRIMARY KEY,
                host text NOT NULL,
                pid bigint NOT NULL,
                started_at bigint NOT NULL,
                heartbeat_at bigint NOT NULL,
                concurrency bigint NOT NULL,
                items bigint NOT NULL,
                draining boolean NOT NULL,
                lease_ms bigint NOT NULL
            )
            """,
        ],
    ]
}
