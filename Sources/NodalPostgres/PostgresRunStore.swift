public import NodalCore
import NodalJSON
import FoundationEssentials
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization

/// A ``RunStore`` in a PostgreSQL database, for several processes (or machines) sharing runs,
/// through postgres-nio's connection pool.
///
/// Opening connects once on its own to report a bad address, password or database plainly, runs
/// pending schema migrations (see `PostgresSchema`), and refuses a database written by a newer Nodal
/// or holding another program's tables of the same names. Then every call takes a connection from
/// a pool of at most ``PostgresLocation/poolSize`` connections. Calls from many tasks run
/// concurrently; a call that writes several rows runs in one transaction. A write has committed
/// when the call returns (durable as far as the server's settings make commits durable).
///
/// The contract is ``RunStore``'s, as the SQLite store keeps it: times to the millisecond, JSON
/// back equal and with its keys in the order written (JSON is kept as text, not `jsonb`), errors
/// are ``RunStoreError``s naming the database by its URL without the password.
public final class PostgresRunStore: ServiceRunStorage {
    /// The schema version this Nodal writes (the `nodal_schema` table's `version`).
    public static var schemaVersion: Int { PostgresSchema.version }

    public let location: PostgresLocation
    public let cacheLimit: CacheLimit

    let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let calls = CallGate()
    /// How long one call may wait for the server (for a connection, then for its answer) before it
    /// fails as `unreachable`: a server that died or a network that dropped must not hang the caller.
    let callTimeout: Duration
    /// The tasks listening for notifications (`workNotifications()`), ended by `close()`.
    let listeners = Mutex<[Int: Task<Void, Never>]>([:])
    let nextListener = Atomic<Int>(0)
    let logger = Logger(label: "nodal.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Opens the store in `location`'s database, creating its tables if they are missing.
    public convenience init(location: PostgresLocation, cacheLimit: CacheLimit = .default) async throws {
        try await self.init(location: location, cacheLimit: cacheLimit, migrations: PostgresSchema.migrations)
    }

    /// The default `callTimeout`: far past any statement Nodal sends, well short of forever.
    public static let defaultCallTimeout: Duration = .seconds(60)

    /// Parses `url` (see ``PostgresLocation``) and opens the store.
    public convenience init(url: String, cacheLimit: CacheLimit = .default) async throws {
        try await self.init(location: try PostgresLocation(url: url), cacheLimit: cacheLimit)
    }

    /// With the migrations given (tests use this to play an older or newer Nodal).
    init(
        location: PostgresLocation, cacheLimit: CacheLimit, migrations: [[String]], callTimeout: Duration = PostgresRunStore.defaultCallTimeout
    ) async throws {
        self.location = location
        self.cacheLimit = cacheLimit
        self.callTimeout = callTimeout
        let tls = try Self.tls(location)
        // One connection of its own first: its failure says what is wrong (no server, wrong
        // password, no database), where a pool would keep retrying in the background.
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: Self.connectionConfiguration(location, tls: tls), id: 0, logger: logger)
        } catch {
            throw Self.openingError(error, location)
        }
        do {
            try await Self.prepare(connection, location: location, migrations: migrations, logger: logger)
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw Self.mapError(error, "opening", location)
        }
        client = PostgresClient(configuration: Self.clientConfiguration(location, tls: tls), backgroundLogger: logger)
        let client = client
        runTask = Task { await client.run() }
    }

    deinit {
        // A store dropped without close(): its pool goes with it.
        runTask.cancel()
    }

    /// Waits for the calls in flight, then closes the pool's connections.
    public func close() async throws {
        guard await calls.close() else { return }
        for listener in listeners.withLock({ $0.values }) { listener.cancel() }
        runTask.cancel()
        await runTask.value
    }

    // MARK: Opening

    static func connectionConfiguration(_ location: PostgresLocation, tls: PostgresConnection.Configuration.TLS)
        -> PostgresConnection.Configuration
    {
        var configuration: PostgresConnection.Configuration
        switch location.endpoint {
        case .tcp(let host, let port):
            configuration = .init(
                host: host, port: port, username: location.user, password: location.password, database: location.database, tls: tls)
        case .unixSocket:
            configuration = .init(
                unixSocketPath: location.socketPath!, username: location.user, password: location.password, database: location.database)
        }
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "nodal")]
        return configuration
    }

    private static func clientConfiguration(_ location: PostgresLocation, tls: PostgresConnection.Configuration.TLS)
        -> PostgresClient.Configuration
    {
        var configuration: PostgresClient.Configuration
        switch location.endpoint {
        case .tcp(let host, let port):
            configuration = .init(
                host: host, port: port, username: location.user, password: location.password, database: location.database,
                tls: clientTLS(location))
        case .unixSocket:
            configuration = .init(
                unixSocketPath: location.socketPath!, username: location.user, password: location.password, database: location.database)
        }
        configuration.options.maximumConnections = location.poolSize
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "nodal")]
        return configuration
    }

    static func tls(_ location: PostgresLocation) throws -> PostgresConnection.Configuration.TLS {
        guard case .tcp = location.endpoint else { return .disable }
        do {
            switch location.tls {
            case .disable: return .disable
            case .prefer: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require:
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.certificateVerification = .none
                return .require(try NIOSSLContext(configuration: configuration))
            case .verifyFull: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw RunStoreError(.cannotOpen, "cannot set up TLS for the run store \(location): \(error)", path: location.description)
        }
    }

    private static func clientTLS(_ location: PostgresLocation) -> PostgresClient.Configuration.TLS {
        switch location.tls {
        case .disable: return .disable
        case .prefer: return .prefer(.makeClientConfiguration())
        case .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            return .require(configuration)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }

    /// Checks the database can hold Nodal's text, then migrates it, on the opening connection.
    private static func prepare(
        _ connection: PostgresConnection, location: PostgresLocation, migrations: [[String]], logger: Logger
    ) async throws {
        let encoding = try await connection.query("SHOW server_encoding", logger: logger).collect().first
            .map { try $0.makeRandomAccess()[0].decode(String.self) } ?? "?"
        guard encoding == "UTF8" else {
            throw RunStoreError(
                .cannotOpen,
                "the run store \(location) has the encoding \(encoding); Nodal needs a UTF8 database (CREATE DATABASE ... ENCODING 'UTF8')",
                path: location.description)
        }
        let version = try await schemaVersion(connection, logger: logger)
        try checkVersion(version, known: migrations.count, location)
        guard version < migrations.count else { return }
        try await connection.query("BEGIN", logger: logger)
        do {
            // Another process may be migrating the same database: the lock orders them, and the
            // second one reads the version the first one left.
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLock))", logger: logger)
            let version = try await schemaVersion(connection, logger: logger)
            try checkVersion(version, known: migrations.count, location)
            if version == 0 {
                // Nodal's table names are plain ones; a database that already has them is another program's.
                let taken = try await connection.query(
                    """
                    SELECT table_name::text FROM information_schema.tables
                    WHERE table_schema = current_schema() AND table_name = ANY(\(["runs", "blobs", "step_checkpoints", "service_runs"]))
                    ORDER BY 1
                    """, logger: logger
                ).collect().map { try $0.makeRandomAccess()[0].decode(String.self) }
                if !taken.isEmpty {
                    throw RunStoreError(
                        .notANodalStore,
                        "the database \(location) has tables named \(taken.joined(separator: ", ")) but is not a Nodal run store "
                            + "(no nodal_schema table); use another database for the store", path: location.description)
                }
                try await connection.query(
                    "CREATE TABLE nodal_schema (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL, migrated_at bigint NOT NULL)",
                    logger: logger)
                try await connection.query("INSERT INTO nodal_schema (id, version, migrated_at) VALUES (1, 0, 0)", logger: logger)
            }
            for migration in migrations[version...] {
                for statement in migration { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
            }
            try await connection.query(
                "UPDATE nodal_schema SET version = \(migrations.count), migrated_at = \(Date().storeMilliseconds) WHERE id = 1",
                logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// The `nodal_schema` version; 0 when the table does not exist.
    private static func schemaVersion(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        // A catalog query, not to_regclass: to_regclass reads this connection's catalog cache,
        // which may not have seen the table another process just created while this one waited
        // for the migration lock (three processes opening one new database at once did).
        let exists = try await connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relname = 'nodal_schema' AND n.nspname = current_schema())
            """, logger: logger
        ).collect().first
            .map { try $0.makeRandomAccess()[0].decode(Bool.self) } ?? false
        guard exists else { return 0 }
        return try await connection.query("SELECT version FROM nodal_schema WHERE id = 1", logger: logger).collect().first
            .map { try $0.makeRandomAccess()[0].decode(Int.self) } ?? 0
    }

    private static func checkVersion(_ version: Int, known: Int, _ location: PostgresLocation) throws {
        guard version > known else { return }
        throw RunStoreError(
            .newerSchema,
            "the run store \(location) has schema version \(version), but this Nodal knows versions up to \(known): "
                + "it was written by a newer Nodal. Upgrade Nodal, or use another database.", path: location.description)
    }

    // MARK: Calls

    /// Runs `body` as one call of the store: refused once the store is closed, waited for by
    /// `close()`, its errors mapped to `RunStoreError`s naming `action`.
    @discardableResult
    func call<T: Sendable>(_ action: String, _ body: @Sendable () async throws -> T) async throws -> T {
        guard calls.enter() else { throw closedError }
        defer { calls.leave() }
        var retried = false
        while true {
            do { return try await Deadline.race(body, within: callTimeout) } catch let error as Deadline.Passed
                where !retried && error.limit == statementTimeout {
                // A statement the server never answered (its connection is closed now): once more.
                retried = true
            } catch let error as Deadline.Passed {
                throw RunStoreError(
                    .unreachable,
                    "the PostgreSQL server at \(location.serverDescription) did not answer within \(error.limit) (\(action) in the run store \(location))",
                    path: location.description)
            } catch where !retried && Self.isConnectionLoss(error) {
                // The server closed a pooled connection (a restart, pg_terminate_backend, an idle
                // timeout): the pool opens another, and the call goes again once. Safe: a call's
                // writes are one transaction that did not commit, or idempotent (upserts, a
                // claim whose lost items the worker's heartbeat gives back, an end recorded once).
                retried = true
            } catch {
                throw Self.mapError(error, action, location)
            }
        }
    }

    /// Whether `error` says the connection went away under the call (not that no connection
    /// could be made, which a second try at once would not change).
    static func isConnectionLoss(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .serverClosedConnection, .uncleanShutdown: return true
        // Also a deadlock or serialization failure: PostgreSQL rolled the transaction back.
        case .server: return ["57P01", "57P02", "08006", "08003", "40P01", "40001"].contains(error.serverInfo?[.sqlState] ?? "")
        default: return false
        }
    }

    /// One statement on a connection from the pool; its rows.
    @discardableResult
    func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await client.withConnection { [logger, statementTimeout] connection in
            try await Self.run(query, on: connection, logger: logger, timeout: statementTimeout)
        }
    }

    /// One statement on `connection`, abandoned past `timeout`: the connection is closed then, so
    /// the pool drops it rather than hand it to the next call.
    static func run(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger, timeout: Duration) async throws -> [PostgresRow] {
        do {
            return try await Deadline.abandoning({ try await connection.query(query, logger: logger).collect() }, within: timeout)
        } catch let error as Deadline.Passed {
            Task { try? await connection.close() }
            throw error
        }
    }

    /// How long one statement may go unanswered. postgres-nio can leave a query on a connection
    /// the server closed waiting forever, past cancellation: such a query is abandoned, and the
    /// call fails (or, once, goes again) instead of hanging its caller.
    var statementTimeout: Duration { callTimeout / 2 }

    /// `body` in a transaction on one connection from the pool: committed when it returns, rolled
    /// back when it throws (the error is `body`'s own).
    func transaction<T: Sendable>(_ body: (Transaction) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let transaction = Transaction(connection: connection, logger: logger, timeout: statementTimeout)
            try await transaction.query("BEGIN")
            do {
                let value = try await body(transaction)
                try await transaction.query("COMMIT")
                return value
            } catch {
                // A statement left unanswered closed the connection: nothing to roll back on it.
                if !(error is Deadline.Passed) { _ = try? await transaction.query("ROLLBACK") }
                throw error
            }
        }
    }

    /// A connection inside `transaction`.
    struct Transaction {
        let connection: PostgresConnection
        let logger: Logger
        let timeout: Duration

        @discardableResult
        func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
            try await PostgresRunStore.run(query, on: connection, logger: logger, timeout: timeout)
        }
    }

    var closedError: RunStoreError { RunStoreError(.closed, "the run store \(location) is closed", path: location.description) }

    // MARK: Errors

    private static func openingError(_ error: any Error, _ location: PostgresLocation) -> RunStoreError {
        mapError(error, "connecting", location)
    }

    static func mapError(_ error: any Error, _ action: String, _ location: PostgresLocation) -> RunStoreError {
        let path = location.description
        if let error = error as? RunStoreError {
            if error.kind == .corruptRecord, error.path == nil {
                return RunStoreError(.corruptRecord, "the run store \(location) holds a damaged record: \(error.message) (\(action))", path: path)
            }
            return error
        }
        if let error = error as? PostgresDecodingError {
            return RunStoreError(
                .corruptRecord, "the run store \(location) holds a value that does not read back: column '\(error.columnName)' (\(action))",
                path: path)
        }
        guard let error = error as? PSQLError else {
            return RunStoreError(.database, "\(action) in the run store \(location) failed: \(error)", path: path)
        }
        let server = location.serverDescription
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? "\(error)"
            switch state {
            case "23503":
                return RunStoreError(.runNotFound, "\(action) in the run store \(location) failed: no such run", path: path)
            case "28P01", "28000":
                return RunStoreError(
                    .authenticationFailed,
                    "the PostgreSQL server at \(server) refused user '\(location.user)' (\(message)); check the user name and password of \(location)",
                    path: path)
            case "3D000":
                return RunStoreError(
                    .cannotOpen,
                    "the PostgreSQL server at \(server) has no database '\(location.database)' (\(location)): create it (createdb \(location.database))",
                    path: path)
            case "42501":
                return RunStoreError(
                    .database,
                    "\(action) in the run store \(location) failed: \(message); user '\(location.user)' may not use Nodal's tables in "
                        + "database '\(location.database)' (use the user that created them, or grant this one their rights)",
                    path: path)
            case "57P01", "57P02", "57P03", "53300":
                // Shutting down, crashed, starting up, too many connections.
                return RunStoreError(.unreachable, "the PostgreSQL server at \(server) is not available (\(message)) while \(action)", path: path)
            default:
                return RunStoreError(.database, "\(action) in the run store \(location) failed: \(message) (SQLSTATE \(state))", path: path)
            }
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .sslUnsupported, .failedToAddSSLHandler, .poolClosed:
            let reason = error.code == .sslUnsupported
                ? "the server does not offer TLS (sslmode=\(location.tls.rawValue))" : connectionFailure(error.underlying, error.code, location)
            return RunStoreError(
                .unreachable, "cannot reach the PostgreSQL server at \(server) for the run store \(location) (\(action)): \(reason)",
                path: path)
        case .authMechanismRequiresPassword, .unsupportedAuthMechanism, .saslError:
            return RunStoreError(
                .authenticationFailed,
                "the PostgreSQL server at \(server) asks user '\(location.user)' for a password it cannot be given (\(error.code)); "
                    + "put the password in the URL (postgres://USER:PASSWORD@HOST/DB)",
                path: path)
        default:
            return RunStoreError(.database, "\(action) in the run store \(location) failed: \(error.code)", path: path)
        }
    }
}

/// Why a connection could not be made, in a few words: NIO's errors name every address tried
/// and the errno in a nested description.
private func connectionFailure(_ underlying: (any Error)?, _ code: PSQLError.Code, _ location: PostgresLocation) -> String {
    guard let underlying else { return "\(code)" }
    let text = "\(underlying)"
    if text.contains("Connection refused") {
        return "connection refused (is the server running, and listening on that address and port?)"
    }
    if text.contains("No such file or directory"), case .unixSocket = location.endpoint {
        return "no socket there (is the server running, with that socket folder and port?)"
    }
    if text.contains("UnknownHost") || text.contains("Name or service not known") { return "unknown host" }
    if text.contains("timed out") || text.contains("connectTimeout") { return "no answer (timed out)" }
    if text.contains("Connection reset") { return "the connection was reset" }
    return text
}

/// Counts calls in flight so `close()` can wait for them and later calls are refused.
final class CallGate: Sendable {
    private struct State {
        var inFlight = 0
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// False once closed.
    func enter() -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.inFlight += 1
            return true
        }
    }

    func leave() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.inFlight -= 1
            guard state.closed, state.inFlight == 0 else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Refuses new calls and waits for those in flight. False when it was closed already.
    func close() async -> Bool {
        let first = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return false }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.inFlight == 0 { return true }
                state.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
        return true
    }
}
