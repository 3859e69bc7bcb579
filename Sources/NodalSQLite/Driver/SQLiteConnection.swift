import VaporCSQLite

/// One `sqlite3` connection, driven through SQLite's C API (the copy sqlite-nio ships, whose
/// symbols carry a `sqlite_nio_` prefix), with its prepared statements kept for the connection's
/// life: a statement the store runs for every checkpoint is parsed once, not once per call.
///
/// Not thread-safe by itself: the store hands it to one caller at a time (`SQLiteRunStore`'s
/// serial lock), on whichever thread that caller runs. Calls block that thread for as long as
/// SQLite works; `waitsForLocks` says whether a write that meets another process's lock waits for
/// it (up to `busyTimeout`) or fails at once with `SQLITE_BUSY`, so the store can do the waiting
/// on a thread of its own instead of a thread of Swift's cooperative pool.
final class SQLiteConnection: @unchecked Sendable {
    /// SQLite's `sqlite3*`; nil once closed.
    private var handle: OpaquePointer?
    /// Prepared statements by their SQL text.
    private var statements: [String: OpaquePointer] = [:]
    /// More than this many cached statements means the store builds SQL with varying shapes (a
    /// list filter, a chunk of batch items): the cache starts again rather than grow.
    private static let statementLimit = 128
    /// See the type's comment. Read by the busy handler, on the thread that runs the call.
    var waitsForLocks = true
    let busyTimeoutMilliseconds: Int32

    /// Opens (creating) the file at `path`, or a private database in memory for `":memory:"`.
    init(path: String, busyTimeoutMilliseconds: Int32 = 5_000) throws(SQLiteError) {
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite_nio_sqlite3_open_v2(path, &opened, flags, nil)
        guard status == SQLITE_OK, let opened else {
            let message = opened.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "cannot open"
            sqlite_nio_sqlite3_close_v2(opened)
            throw SQLiteError(code: status, message: message)
        }
        handle = opened
        sqlite_nio_sqlite3_extended_result_codes(opened, 1)
        // The handler gets `self` unretained: the connection outlives its handle (close() and
        // deinit remove the handler with the handle).
        sqlite_nio_sqlite3_busy_handler(opened, { context, attempts in
            let connection = Unmanaged<SQLiteConnection>.fromOpaque(context!).takeUnretainedValue()
            return connection.waitForLock(attempts: attempts)
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit { close() }

    /// Finalizes every statement and closes the handle. Closing twice is a no-op.
    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        if let handle { sqlite_nio_sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Sleeps a little and says "try again" until the busy timeout has passed, when waiting is
    /// allowed; otherwise gives up at once (the call fails with `SQLITE_BUSY`).
    private func waitForLock(attempts: Int32) -> Int32 {
        guard waitsForLocks else { return 0 }
        // 1, 2, 4 ... 64 ms, then 64 ms steps: about `busyTimeout` in all.
        let delays: [Int32] = [1, 2, 4, 8, 16, 32, 64]
        let index = Int(attempts)
        let waited = index < delays.count ? delays[..<index].reduce(0, +) : 127 + Int32(index - delays.count) * 64
        guard waited < busyTimeoutMilliseconds else { return 0 }
        let delay = index < delays.count ? delays[index] : 64
        sqlite_nio_sqlite3_sleep(delay)
        return 1
    }

    // MARK: Running statements

    /// Runs one statement with its parameters bound in order (`?1` is the first), returning its
    /// rows. The statement is prepared on first use and kept.
    @discardableResult
    func query(_ sql: String, _ binds: [SQLiteData] = []) throws(SQLiteError) -> [SQLiteRow] {
        let statement = try prepared(sql)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        try bind(binds, to: statement)
        var rows: [SQLiteRow] = []
        var columns: SQLiteRow.Columns?
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { throw error(status) }
            let names = columns ?? SQLiteRow.Columns(statement)
            columns = names
            rows.append(SQLiteRow(columns: names, values: Self.values(of: statement, count: names.names.count)))
        }
    }

    /// Runs SQL text of one or more statements with no parameters and no rows (schema
    /// migrations), without keeping it prepared.
    func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite_nio_sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite_nio_sqlite3_free(message) }
        guard status == SQLITE_OK else {
            throw SQLiteError(code: status, message: message.map { String(cString: $0) } ?? lastMessage)
        }
    }

    /// Whether the connection is inside a transaction (`BEGIN` without its `COMMIT` yet).
    var inTransaction: Bool { handle.map { sqlite_nio_sqlite3_get_autocommit($0) == 0 } ?? false }

    private func prepared(_ sql: String) throws(SQLiteError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        guard let handle else { throw SQLiteError(code: SQLITE_MISUSE, message: "the connection is closed") }
        if statements.count >= Self.statementLimit {
            for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
            statements.removeAll(keepingCapacity: true)
        }
        var statement: OpaquePointer?
        let status = sql.utf8CString.withUnsafeBufferPointer { text in
            sqlite_nio_sqlite3_prepare_v3(handle, text.baseAddress, Int32(text.count), UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        }
        guard status == SQLITE_OK, let statement else { throw error(status) }
        statements[sql] = statement
        return statement
    }

    private func bind(_ binds: [SQLiteData], to statement: OpaquePointer) throws(SQLiteError) {
        for (offset, value) in binds.enumerated() {
            let index = Int32(offset + 1)
            // SQLite takes lengths as Int32 and refuses values past its own limit (1 GB by
            // default) with SQLITE_TOOBIG; a length past Int32 gets the same answer, not a trap.
            if value.byteCount > Int(Int32.max) {
                throw SQLiteError(code: SQLITE_TOOBIG, message: "string or blob too big (\(value.byteCount) bytes)")
            }
            let status: Int32
            switch value {
            case .null:
                status = sqlite_nio_sqlite3_bind_null(statement, index)
            case .integer(let number):
                status = sqlite_nio_sqlite3_bind_int64(statement, index, number)
            case .float(let number):
                status = sqlite_nio_sqlite3_bind_double(statement, index, number)
            case .text(var text):
                status = text.withUTF8 { bytes in
                    // An empty string binds as empty text, not NULL (a non-nil pointer).
                    let start = UnsafeRawPointer(bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self)
                    return sqlite_nio_sqlite3_bind_text(statement, index, start, Int32(bytes.count), Self.transient)
                }
            case .blob(let bytes):
                status = bytes.withUnsafeBytes { raw in
                    // An empty blob binds as an empty blob, not NULL (a non-nil pointer).
                    sqlite_nio_sqlite3_bind_blob(statement, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), Self.transient)
                }
            }
            guard status == SQLITE_OK else { throw error(status) }
        }
    }

    private static func values(of statement: OpaquePointer, count: Int) -> [SQLiteData] {
        var values: [SQLiteData] = []
        values.reserveCapacity(count)
        for column in 0..<Int32(count) {
            switch sqlite_nio_sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER:
                values.append(.integer(sqlite_nio_sqlite3_column_int64(statement, column)))
            case SQLITE_FLOAT:
                values.append(.float(sqlite_nio_sqlite3_column_double(statement, column)))
            case SQLITE_TEXT:
                let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
                let text = sqlite_nio_sqlite3_column_text(statement, column).map {
                    String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                } ?? ""
                values.append(.text(text))
            case SQLITE_BLOB:
                let length = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
                let bytes = sqlite_nio_sqlite3_column_blob(statement, column).map {
                    Array(UnsafeRawBufferPointer(start: $0, count: length))
                } ?? []
                values.append(.blob(bytes))
            default:
                values.append(.null)
            }
        }
        return values
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the bound bytes (a macro Swift does not import).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private var lastMessage: String {
        handle.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "the connection is closed"
    }

    private func error(_ status: Int32) -> SQLiteError {
        // The extended code of the last failure (a step's own status may be the primary one).
        let code = handle.map { sqlite_nio_sqlite3_extended_errcode($0) } ?? status
        return SQLiteError(code: code == SQLITE_OK ? status : code, message: lastMessage)
    }
}
