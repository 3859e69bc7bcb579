import NodalCore
import NodalJSON
/// The SQLite store's schema, as an append-only list of migrations.
///
/// The database's schema version is SQLite's `PRAGMA user_version` (0 for a new file); migration
/// `n` (1-based) takes a database from version `n - 1` to `n`. Opening a database runs the pending
/// migrations in one `BEGIN IMMEDIATE` transaction, so two processes opening the same new file do
/// not both migrate and a failed migration leaves the file as it was. A file whose version is
/// higher than `migrations.count` was written by a newer Nodal and is refused unchanged.
///
/// Rules for adding a migration: never edit a released one; append a new one. Times are integer
/// milliseconds since 1970 (UTC); JSON is compact text (`json_extract` works on it in the
/// `sqlite3` shell).
enum SQLiteSchema {
    /// `PRAGMA application_id`, which marks a file as a Nodal store: "NODL".
    static let applicationID: Int32 = 0x4E4F_444C

    static var version: Int { migrations.count }

    static let migrations: [[String]] = [
        // 1: runs, batch items, step checkpoints, pause records, blobs, result cache.
        [
            """
            CREATE TABLE runs (
                seq INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                flow_name TEXT NOT NULL,
                flow_path TEXT,
                flow_hash TEXT,
                input TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                result TEXT
            )
            """,
            "CREATE INDEX runs_by_created ON runs (created_at, seq)",
            """
            CREATE TABLE batch_items (
                batch_id TEXT NOT NULL,
                item_index INTEGER NOT NULL,
                run_id TEXT,
                status TEXT NOT NULL,
                PRIMARY KEY (batch_id, item_index)
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE step_checkpoints (
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                step_id TEXT NOT NULL,
                status TEXT NOT NULL,
                input TEXT,
                output TEXT,
                error TEXT,
                attempts INTEGER NOT NULL,
                started_at INTEGER,
                ended_at INTEGER,
                UNIQUE (run_id, step_id)
            )
            """,
            """
            CREATE TABLE pauses (
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                resume_key TEXT NOT NULL,
                step_id TEXT NOT NULL,
                value TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                UNIQUE (run_id, resume_key)
            )
            """,
            """
            CREATE TABLE blobs (
                id TEXT PRIMARY KEY,
                data TEXT NOT NULL,
                size INTEGER NOT NULL,
                created_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """,
            """
            CREATE TABLE result_cache (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                size INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                last_used INTEGER NOT NULL
            )
            """,
            "CREATE INDEX result_cache_by_use ON result_cache (last_used)",
            // Entry count and bytes kept up to date by triggers, so enforcing the size bound costs
            // one row read rather than a scan.
            """
            CREATE TABLE result_cache_stats (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                entries INTEGER NOT NULL,
                bytes INTEGER NOT NULL
            )
            """,
            "INSERT INTO result_cache_stats (id, entries, bytes) VALUES (1, 0, 0)",
            """
            CREATE TRIGGER result_cache_inserted AFTER INSERT ON result_cache BEGIN
                UPDATE result_cache_stats SET entries = entries + 1, bytes = bytes + NEW.size WHERE id = 1;
            END
            """,
            """
            CREATE TRIGGER result_cache_deleted AFTER DELETE ON result_cache BEGIN
                UPDATE result_cache_stats SET entries = entries - 1, bytes = bytes - OLD.size WHERE id = 1;
            END
            """,
            """
            CREATE TRIGGER result_cache_resized AFTER UPDATE OF size ON result_cache BEGIN
                UPDATE result_cache_stats SET bytes = bytes - OLD.size + NEW.size WHERE id = 1;
            END
            """,
        ],
        // 2: run leases, one owner per run (RunLease). No foreign key: a new run is claimed before
        // its record is written, so two processes starting the same run id cannot both start it.
        [
            """
            CREATE TABLE run_leases (
                run_id TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                host TEXT NOT NULL,
                pid INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """,
        ],
        // 3: sub-runs and typed blobs. Items of a sub-run (a run a plugin submitted through the
        // runs extension) record the run that submitted them and the root of that chain (NULL for
        // runs started from outside, as every run written before this version). JSON blobs gain a
        // type (NULL, as in older files, reads as "data"); bytes blobs get a table of their own, so
        // the JSON blobs' rows stay as they were.
        [
            "ALTER TABLE runs ADD COLUMN parent_run_id TEXT",
            "ALTER TABLE runs ADD COLUMN root_run_id TEXT",
            "CREATE INDEX runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL",
            "ALTER TABLE blobs ADD COLUMN type TEXT",
            """
            CREATE TABLE byte_blobs (
                id TEXT PRIMARY KEY,
                type TEXT NOT NULL,
                data BLOB NOT NULL,
                size INTEGER NOT NULL,
                created_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """,
        ],
        // 4: the run service's runs (ServiceRunRecord): one flow blob over many items, each item
        // an ordinary run `<id>-<index>` in `runs`. No foreign key to `runs`: items are written
        // after their service run, and deleting one deletes its items explicitly.
        [
            """
            CREATE TABLE service_runs (
                seq INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                flow_id TEXT NOT NULL,
                flow_name TEXT,
                status TEXT NOT NULL,
                request TEXT NOT NULL,
                item_count INTEGER NOT NULL,
                succeeded INTEGER NOT NULL,
                failed INTEGER NOT NULL,
                canceled INTEGER NOT NULL,
                paused INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                completed_at INTEGER,
                parent_run_id TEXT,
                root_run_id TEXT,
                depth INTEGER NOT NULL
            )
            """,
            "CREATE INDEX service_runs_by_created ON service_runs (created_at, seq)",
            "CREATE INDEX service_runs_by_parent ON service_runs (parent_run_id) WHERE parent_run_id IS NOT NULL",
            "CREATE INDEX service_runs_by_root ON service_runs (root_run_id) WHERE root_run_id IS NOT NULL",
        ],
    ]
}
