#if canImport(NodalPostgres)
import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalPostgres
@testable import NodalSQLite

// What only the PostgreSQL store has: its schema table and migrations, refusing a newer or foreign
// database, and the errors of a bad address, a wrong password or a missing database. The shared
// behaviours run on it through `StoreKind.postgres` with every other store.

@Suite("Store: PostgreSQL")
struct PostgresStoreTests {
    @Test func migratesAnEmptyDatabaseAndReopensWithItsData() async throws {
        let url = try PostgresTestServer.freshDatabase()
        let store = try await PostgresRunStore(url: url)
        #expect(try await store.rawQuery("SELECT version::text AS v FROM nodal_schema") == [["v": String(PostgresRunStore.schemaVersion)]])
        try await store.putRun(sampleRun("kept"))
        try await store.putCheckpoint(StepCheckpoint(runID: "kept", stepID: "a", status: "success", output: ["v": 1]))
        let blob = try await store.putBlob(["big": [1, 2, 3]])
        let bytes = try await store.putBytes([], type: "application/x-empty")
        try await store.putCachedResult(key: "k", value: "cached")
        try await store.close()

        let again = try await PostgresRunStore(url: url)
        #expect(try await again.run(id: "kept") == {
            var run = sampleRun("kept")
            run.createdAt = run.createdAt.roundedForStore
            run.updatedAt = run.createdAt
            return run
        }())
        #expect(try await again.checkpoints(runID: "kept").map(\.output) == [["v": 1]])
        #expect(try await again.blob(id: blob) == ["big": [1, 2, 3]])
        #expect(try await again.storedBlob(id: bytes) == StoredBlob(content: .bytes([]), type: "application/x-empty"))
        #expect(try await again.cachedResult(key: "k")?.value == "cached")
        try await again.close()
    }

    /// Found by the README's scale-out block (a server and two workers opening one new database):
    /// one that waited for the migration lock must see the tables the first one made, not take them
    /// for another program's.
    @Test func processesOpeningANewDatabaseAtOnceMigrateItOnce() async throws {
        for _ in 0..<4 {
            let url = try PostgresTestServer.freshDatabase()
            let stores = try await withThrowingTaskGroup(of: PostgresRunStore.self) { group in
                for _ in 0..<8 { group.addTask { try await PostgresRunStore(url: url) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(stores.count == 8)
            try await stores[0].putRun(sampleRun("r"))
            #expect(try await stores[7].run(id: "r") != nil)
            for store in stores { try await store.close() }
        }
    }

    @Test func upgradesAnOlderSchemaInPlace() async throws {
        let location = try PostgresLocation(url: try PostgresTestServer.freshDatabase())
        let old = try await PostgresRunStore(location: location, cacheLimit: .default, migrations: Array(PostgresSchema.migrations.prefix(1)))
        try await old.putRun(sampleRun("from-v1"))
        try await old.close()
        let newer = PostgresSchema.migrations + [["CREATE TABLE future_things (id text PRIMARY KEY)", "INSERT INTO future_things (id) VALUES ('seed')"]]
        let upgraded = try await PostgresRunStore(location: location, cacheLimit: .default, migrations: newer)
        #expect(try await upgraded.rawQuery("SELECT version::text AS v FROM nodal_schema") == [["v": String(newer.count)]])
        #expect(try await upgraded.rawQuery("SELECT id FROM future_things") == [["id": "seed"]])
        #expect(try await upgraded.run(id: "from-v1") != nil)
        try await upgraded.close()
        // A failing migration leaves the database as it was.
        let broken = newer + [["CREATE TABLE more_things (id text)", "SELECT no_such_function()"]]
        await expectStoreError(.database) {
            _ = try await PostgresRunStore(location: location, cacheLimit: .default, migrations: broken)
        }
        #expect(try PostgresTestServer.psql("SELECT version, to_regclass('more_things') IS NULL FROM nodal_schema", database: location.database)
            == "\(newer.count)|t\n")
    }

    @Test func refusesADatabaseFromANewerNodal() async throws {
        let url = try PostgresTestServer.freshDatabase()
        let store = try await PostgresRunStore(url: url)
        try await store.putRun(sampleRun("r"))
        try await store.rawQuery("UPDATE nodal_schema SET version = 99")
        try await store.close()
        let error = await expectStoreError(.newerSchema) { _ = try await PostgresRunStore(url: url) }
        let message = error?.message ?? ""
        let shown = try PostgresLocation(url: url).description
        #expect(message.contains(shown))
        #expect(message.contains("99"))
        #expect(message.contains("up to \(PostgresRunStore.schemaVersion)"))
        #expect(message.contains("newer Nodal"))
        #expect(error?.path == shown)
        #expect(try PostgresTestServer.psql("SELECT count(*) FROM runs", database: try PostgresLocation(url: url).database) == "1\n")
    }

    @Test func refusesAnotherProgramsTables() async throws {
        let url = try PostgresTestServer.freshDatabase()
        let database = try PostgresLocation(url: url).database
        try PostgresTestServer.psql("CREATE TABLE runs (invoice integer)", database: database)
        let error = await expectStoreError(.notANodalStore) { _ = try await PostgresRunStore(url: url) }
        #expect(error?.message.contains("runs") == true)
        #expect(error?.message.contains(try PostgresLocation(url: url).description) == true)
        #expect(try PostgresTestServer.psql("SELECT to_regclass('nodal_schema') IS NULL", database: database) == "t\n")
    }

    @Test func aDatabaseThatDoesNotExistIsNamed() async throws {
        let url = try PostgresTestServer.url(database: "no_such_database_here")
        let error = await expectStoreError(.cannotOpen) { _ = try await PostgresRunStore(url: url) }
        #expect(error?.message.contains("no database 'no_such_database_here'") == true, "\(error?.message ?? "")")
    }

    /// Nothing listens on port 1 of the loopback address, nor on a socket in a missing folder.
    @Test(arguments: [
        ("postgres://nodal:hunter2@127.0.0.1:1/nodal?sslmode=disable", "127.0.0.1:1", "connection refused"),
        ("postgres://nodal:hunter2@/nodal?host=/nonexistent-nodal-folder&port=5999", "/nonexistent-nodal-folder/.s.PGSQL.5999", "no socket there"),
    ])
    func anUnreachableServerIsNamed(url: String, server: String, reason: String) async throws {
        let error = await expectStoreError(.unreachable) { _ = try await PostgresRunStore(url: url) }
        let message = error?.message ?? ""
        #expect(message.contains(server), "\(message)")
        #expect(message.contains(reason), "\(message)")
        #expect(!message.contains("hunter2"), "\(message)")
        #expect(message.contains("nodal:***@"), "\(message)")
    }

    /// A role with a password: the right one opens the store over the socket and over TCP; a wrong
    /// one, or none, is an authentication error that does not show the password.
    @Test func passwordsAreCheckedAndNeverShown() async throws {
        let role = "nodal_auth_" + UUID().uuidString.prefix(8).lowercased()
        try PostgresTestServer.psql("CREATE ROLE \(role) LOGIN PASSWORD 'right-pw'")
        let url = try PostgresTestServer.freshDatabase()
        let location = try PostgresLocation(url: url)
        try PostgresTestServer.psql("ALTER DATABASE \(location.database) OWNER TO \(role)")
        guard case .unixSocket(let directory, let port) = location.endpoint else {
            Issue.record("the test server's URL is not a socket one: \(url)")
            return
        }
        let overSocket = PostgresLocation(endpoint: location.endpoint, user: role, password: "right-pw", database: location.database)
        let overTCP = PostgresLocation(
            endpoint: .tcp(host: "127.0.0.1", port: port), user: role, password: "right-pw", database: location.database, tls: .disable)
        for good in [overSocket, overTCP] {
            let store = try await PostgresRunStore(location: good)
            try await store.putRun(sampleRun("by-\(role)"))
            try await store.close()
        }
        _ = directory
        for var bad in [overSocket, overTCP] {
            bad.password = "wrong-pw"
            let error = await expectStoreError(.authenticationFailed) { _ = try await PostgresRunStore(location: bad) }
            let message = error?.message ?? ""
            #expect(message.contains(role) && message.contains(bad.serverDescription), "\(message)")
            #expect(!message.contains("wrong-pw") && !message.contains("right-pw"), "\(message)")
            bad.password = nil
            await expectStoreError(.authenticationFailed) { _ = try await PostgresRunStore(location: bad) }
        }
    }

    @Test func aRecordThatDoesNotDecodeIsNamedWithTheDatabase() async throws {
        let url = try PostgresTestServer.freshDatabase()
        let store = try await PostgresRunStore(url: url)
        let shown = store.location.description
        try await store.putRun(sampleRun("r1"))
        try await store.putCheckpoint(StepCheckpoint(runID: "r1", stepID: "greet", status: "success", output: ["a": 1]))
        try await store.rawQuery("UPDATE runs SET input = '{bad' WHERE id = 'r1'")
        try await store.rawQuery("UPDATE step_checkpoints SET output = '[1,' WHERE run_id = 'r1'")
        for read in [{ _ = try await store.run(id: "r1") }, { _ = try await store.listRuns(limit: 5) }, { _ = try await store.checkpoints(runID: "r1") }] as [() async throws -> Void] {
            await #expect {
                try await read()
            } throws: { error in
                guard let error = error as? RunStoreError, error.kind == .corruptRecord else { return false }
                return error.path == shown && error.message.contains(shown) && error.message.contains("run 'r1'")
            }
        }
        try await store.close()
    }

    /// psql reads what the store wrote: JSON as text that casts to jsonb, times as milliseconds.
    @Test func anotherProgramReadsTheData() async throws {
        let url = try PostgresTestServer.freshDatabase()
        let store = try await PostgresRunStore(url: url)
        try await store.putServiceRun(sampleServiceRun("s", itemCount: 3))
        try await store.updateServiceRun(id: "s", status: .success, counts: ServiceRunCounts(succeeded: 3), completedAt: storeEpoch)
        try await store.putRun(sampleRun("r"))
        try await store.putCheckpoint(StepCheckpoint(runID: "r", stepID: "fetch", status: "success", output: ["n": 7]))
        let output = try PostgresTestServer.psql(
            """
            SELECT status, item_count, succeeded, request::jsonb #>> '{variables,region}', completed_at FROM service_runs;
            SELECT step_id, output::jsonb ->> 'n' FROM step_checkpoints
            """, database: try PostgresLocation(url: url).database)
        #expect(output == "success|3|3|eu|1763690000123\nfetch|7\n")
        try await store.close()
    }

    /// Two stores (two pools, as two processes have) claiming one run at once: exactly one wins.
    @Test func concurrentClaimsFromTwoPoolsHaveOneWinner() async throws {
        let url = try PostgresTestServer.freshDatabase()
        let stores = [try await PostgresRunStore(url: url), try await PostgresRunStore(url: url)]
        for round in 0..<20 {
            let runID = "run-\(round)"
            let owners = (0..<6).map { _ in LeaseOwner(id: UUID().uuidString, host: LeaseOwner.currentHost, pid: getpid()) }
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (index, owner) in owners.enumerated() {
                    let store = stores[index % 2]
                    group.addTask { try await store.claim(runID: runID, owner: owner, duration: .seconds(30)) == .claimed }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1, "round \(round)")
        }
        for store in stores { try await store.close() }
    }

    /// A NUL in text cannot go into PostgreSQL's text: the call fails with a store error, the
    /// store goes on. (JSON is safe: the writer escapes NUL as \u0000.)
    @Test func textPostgreSQLCannotHoldIsAStoreError() async throws {
        let store = try await PostgresRunStore(url: try PostgresTestServer.freshDatabase())
        await expectStoreError(.database) { try await store.putRun(sampleRun("bad\u{0}id")) }
        let value: JSON = ["nul": "a\u{0}b"]
        try await store.putRun(RunRecord(id: "ok", flowName: "f", input: value, status: .running, createdAt: storeEpoch))
        #expect(try await store.run(id: "ok")?.input == value)
        try await store.close()
    }

    @Test func opensByURLThroughTheCLIsPath() async throws {
        let url = try PostgresTestServer.freshDatabase()
        guard case .postgres(let location) = try RunStoreLocation(parsing: url) else {
            Issue.record("\(url) did not parse as a PostgreSQL location")
            return
        }
        let store = try await PostgresRunStore(location: location)
        try await store.putRun(sampleRun("r"))
        try await store.close()
        // NodalSQLite's opener names the target that opens it.
        let error = await expectStoreError(.unsupportedLocation) { _ = try await RunStoreLocation.open(url: url) }
        #expect(error?.message.contains("PostgresRunStore") == true)
    }
}
#endif
