import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite
#if canImport(NodalPostgres)
@testable import NodalPostgres
#endif

// The run store: the same behaviours checked on every implementation, then what only the SQLite
// store has (migrations, refusing foreign or newer files, durability across processes), then
// SHA-256 and store locations. PostgreSQL's own tests are in PostgresStoreTests.swift.

/// Which store a shared test runs against. Each PostgreSQL test gets a database of its own on the
/// test server (`PostgresTestServer`), so the tests run in parallel as the others do.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case inMemory, sqliteFile, sqliteMemory, sqliteGrouped
    #if canImport(NodalPostgres)
    case postgres
    #endif

    var testDescription: String { rawValue }

    func make(cacheLimit: CacheLimit = .default) async throws -> any RunStorage {
        try await makeServiceStore(cacheLimit: cacheLimit)
    }

    func makeServiceStore(cacheLimit: CacheLimit = .default) async throws -> any ServiceRunStorage {
        switch self {
        case .inMemory: InMemoryRunStore(cacheLimit: cacheLimit)
        case .sqliteFile: try await SQLiteRunStore(path: try temporaryDirectory() + "/store.db", cacheLimit: cacheLimit)
        case .sqliteMemory: try await SQLiteRunStore(path: ":memory:", cacheLimit: cacheLimit)
        case .sqliteGrouped: try await SQLiteRunStore(path: try temporaryDirectory() + "/store.db", durability: .grouped, cacheLimit: cacheLimit)
        #if canImport(NodalPostgres)
        case .postgres: try await PostgresRunStore(url: try PostgresTestServer.freshDatabase(), cacheLimit: cacheLimit)
        #endif
        }
    }
}

/// Runs `body` with a fresh store and closes it afterwards, whether `body` threw or not.
func withStore(_ kind: StoreKind, cacheLimit: CacheLimit = .default, _ body: (any RunStorage) async throws -> Void) async throws {
    let store = try await kind.make(cacheLimit: cacheLimit)
    do {
        try await body(store)
    } catch {
        try await store.close()
        throw error
    }
    try await store.close()
}

/// A time with a sub-millisecond part, which stores round to the millisecond.
let storeEpoch = Date(timeIntervalSince1970: 1_763_690_000.123_4)

func sampleRun(_ id: String, createdAt: Date = storeEpoch, status: RunRecord.Status = .running) -> RunRecord {
    RunRecord(
        id: id, flowName: "greet", flowPath: "/flows/greet.yaml", flowHash: ContentHash.sha256Hex("flow " + id),
        input: ["name": "Ada", "tags": ["x", 1, 2.5, true, nil], "nested": ["z": 1, "a": 2]],
        status: status, createdAt: createdAt)
}

/// Runs `store-bench FLAG PATH`, a child that writes to the store at PATH and kills itself with
/// SIGKILL (no close, no flush), and checks that it died so.
func runProbeThatDies(_ flag: String, _ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: Products.directory + "/store-bench")
    child.arguments = [flag, path]
    child.standardOutput = FileHandle.nullDevice
    child.standardError = FileHandle.nullDevice
    try child.run()
    child.waitUntilExit()
    #expect(child.terminationReason == .uncaughtSignal, sourceLocation: sourceLocation)
    #expect(child.terminationStatus == SIGKILL, sourceLocation: sourceLocation)
}

/// Asserts that `body` throws a `RunStoreError` of `kind`; returns it.
@discardableResult
func expectStoreError(_ kind: RunStoreError.Kind, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async -> RunStoreError? {
    do {
        try await body()
        Issue.record("expected a \(kind) error, got none", sourceLocation: sourceLocation)
        return nil
    } catch let error as RunStoreError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a RunStoreError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

@Suite("Store: every implementation")
struct StoreBehaviourTests {
    @Test(arguments: StoreKind.allCases)
    func runsRoundTripAndList(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let first = sampleRun("run-1")
            try await store.putRun(first)
            let read = try #require(try await store.run(id: "run-1"))
            // Times come back to the millisecond; everything else as written.
            var expected = first
            expected.createdAt = Date(timeIntervalSince1970: 1_763_690_000.123)
            expected.updatedAt = expected.createdAt
            #expect(read == expected)
            #expect(read.createdAt.timeIntervalSince1970 == 1_763_690_000.123)
            #expect(read.input["nested"]?.objectValue?.keys == ["z", "a"])  // key order kept
            #expect(try await store.run(id: "missing") == nil)

            // Newest first; two runs in the same millisecond: the one put last first.
            try await store.putRun(sampleRun("run-2", createdAt: storeEpoch.addingTimeInterval(5)))
            try await store.putRun(sampleRun("run-3", createdAt: storeEpoch.addingTimeInterval(5)))
            try await store.putRun(sampleRun("run-0", createdAt: storeEpoch.addingTimeInterval(-5)))
            #expect(try await store.listRuns(limit: 10).map(\.id) == ["run-3", "run-2", "run-1", "run-0"])
            #expect(try await store.listRuns(limit: 2).map(\.id) == ["run-3", "run-2"])
            #expect(try await store.listRuns(limit: 0).isEmpty)

            // Finishing a run stores its result.
            let result: JSON = ["runId": "run-1", "status": "success", "output": ["greeting": "hi Ada"]]
            let finished = storeEpoch.addingTimeInterval(1)
            try await store.updateRun(id: "run-1", status: .success, result: result, updatedAt: finished)
            let done = try #require(try await store.run(id: "run-1"))
            #expect(done.status == .success)
            #expect(done.result == result)
            #expect(done.updatedAt == Date(timeIntervalSince1970: 1_763_690_001.123))
            #expect(done.createdAt == expected.createdAt)
            await expectStoreError(.runNotFound) {
                try await store.updateRun(id: "nope", status: .failed, result: nil, updatedAt: finished)
            }

            // Putting a run again replaces it and keeps its place in the list.
            var replaced = sampleRun("run-2", createdAt: storeEpoch.addingTimeInterval(5), status: .failed)
            replaced.flowPath = nil
            replaced.flowHash = nil
            try await store.putRun(replaced)
            #expect(try await store.run(id: "run-2")?.status == .failed)
            #expect(try await store.run(id: "run-2")?.flowPath == nil)
            #expect(try await store.listRuns(limit: 10).map(\.id) == ["run-3", "run-2", "run-1", "run-0"])

            #expect(try await store.deleteRun(id: "run-0"))
            #expect(try await !store.deleteRun(id: "run-0"))
            #expect(try await store.listRuns(limit: 10).map(\.id) == ["run-3", "run-2", "run-1"])
        }
    }

    /// Steps that finished together are written together: all of them, in the order given, a
    /// replaced one keeping its place, and a step given twice written as its last.
    @Test(arguments: StoreKind.allCases)
    func checkpointsWrittenTogether(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.putRun(sampleRun("r"))
            try await store.putCheckpoint(StepCheckpoint(runID: "r", stepID: "first", status: "failed", attempts: 1))
            try await store.putCheckpoints([
                StepCheckpoint(runID: "r", stepID: "b", status: "success", output: ["n": 1]),
                StepCheckpoint(runID: "r", stepID: "first", status: "success", output: ["n": 0], attempts: 2),
                StepCheckpoint(runID: "r", stepID: "a", status: "success", output: ["n": 2]),
                StepCheckpoint(runID: "r", stepID: "b", status: "success", output: ["n": 3]),
            ])
            try await store.putCheckpoints([])
            try await store.flushCheckpoints(runID: "r")
            let loaded = try await store.checkpoints(runID: "r")
            #expect(loaded.map(\.stepID) == ["first", "b", "a"])
            #expect(loaded.map(\.output) == [["n": 0], ["n": 3], ["n": 2]])
            #expect(loaded.first?.attempts == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func checkpointsUpsertAndLoad(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.putRun(sampleRun("r"))
            try await store.putRun(sampleRun("other"))
            let failed = StepCheckpoint(
                runID: "r", stepID: "fetch", status: "failed", input: ["url": "http://x"], output: nil,
                error: ["code": "TIMEOUT", "message": "took too long"], attempts: 3,
                startedAt: storeEpoch, endedAt: storeEpoch.addingTimeInterval(0.5))
            try await store.putCheckpoint(failed)
            try await store.putCheckpoint(StepCheckpoint(runID: "r", stepID: "parse", status: "success", output: ["n": 1]))
            try await store.putCheckpoint(StepCheckpoint(runID: "other", stepID: "fetch", status: "skipped", attempts: 0))

            var loaded = try await store.checkpoints(runID: "r")
            #expect(loaded.map(\.stepID) == ["fetch", "parse"])
            #expect(loaded[0].error == ["code": "TIMEOUT", "message": "took too long"])
            #expect(loaded[0].input == ["url": "http://x"])
            #expect(loaded[0].output == nil)
            #expect(loaded[0].attempts == 3)
            #expect(loaded[0].startedAt == Date(timeIntervalSince1970: 1_763_690_000.123))
            #expect(loaded[0].endedAt == Date(timeIntervalSince1970: 1_763_690_000.623))
            #expect(loaded[1].startedAt == nil && loaded[1].endedAt == nil && loaded[1].input == nil)

            // A retried step's checkpoint replaces the old one and keeps its place.
            let succeeded = StepCheckpoint(
                runID: "r", stepID: "fetch", status: "success", input: ["url": "http://x"],
                output: ["body": "ok", "headers": ["b": 1, "a": 2]], attempts: 4)
            try await store.putCheckpoint(succeeded)
            loaded = try await store.checkpoints(runID: "r")
            #expect(loaded.map(\.stepID) == ["fetch", "parse"])
            #expect(loaded[0] == succeeded)
            #expect(loaded[0].output?["headers"]?.objectValue?.keys == ["b", "a"])
            #expect(try await store.checkpoints(runID: "other").map(\.status) == ["skipped"])
            #expect(try await store.checkpoints(runID: "nobody").isEmpty)

            // A checkpoint needs its run (a store that writes checkpoints behind runs says so when
            // the run's checkpoints are flushed).
            await expectStoreError(.runNotFound) {
                try await store.putCheckpoint(StepCheckpoint(runID: "ghost", stepID: "a", status: "success"))
                try await store.flushCheckpoints(runID: "ghost")
            }
            // Deleting a run deletes its checkpoints.
            try await store.deleteRun(id: "r")
            #expect(try await store.checkpoints(runID: "r").isEmpty)
            #expect(try await store.checkpoints(runID: "other").count == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func manyCheckpointsKeepTheirOrder(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.putRun(sampleRun("chain"))
            let ids = (0..<300).map { "step-\(($0 * 7919) % 300)" }  // not in sorted order
            for id in ids { try await store.putCheckpoint(StepCheckpoint(runID: "chain", stepID: id, status: "success", output: .string(id))) }
            let loaded = try await store.checkpoints(runID: "chain")
            #expect(loaded.map(\.stepID) == ids)
            #expect(loaded.allSatisfy { $0.output == .string($0.stepID) })
        }
    }

    @Test(arguments: StoreKind.allCases)
    func pauseRecords(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.putRun(sampleRun("r"))
            let review = PauseRecord(runID: "r", resumeKey: "review.decision", stepID: "review", value: ["draft": "Hello"], createdAt: storeEpoch)
            try await store.putPause(review)
            try await store.putPause(PauseRecord(runID: "r", resumeKey: "budget.ok", stepID: "budget", value: 42, createdAt: storeEpoch))
            var pauses = try await store.pauses(runID: "r")
            #expect(pauses.map(\.resumeKey) == ["review.decision", "budget.ok"])
            #expect(pauses[0].value == ["draft": "Hello"])
            #expect(pauses[0].stepID == "review")
            #expect(pauses[0].createdAt == Date(timeIntervalSince1970: 1_763_690_000.123))

            // Putting the same key again replaces the record.
            try await store.putPause(PauseRecord(runID: "r", resumeKey: "review.decision", stepID: "review", value: ["draft": "Hello v2"], createdAt: storeEpoch))
            pauses = try await store.pauses(runID: "r")
            #expect(pauses.count == 2)
            #expect(pauses[0].value == ["draft": "Hello v2"])

            #expect(try await store.deletePause(runID: "r", resumeKey: "review.decision"))
            #expect(try await !store.deletePause(runID: "r", resumeKey: "review.decision"))
            #expect(try await store.pauses(runID: "r").map(\.resumeKey) == ["budget.ok"])
            #expect(try await store.pauses(runID: "elsewhere").isEmpty)
            await expectStoreError(.runNotFound) {
                try await store.putPause(PauseRecord(runID: "ghost", resumeKey: "k", stepID: "s", value: nil, createdAt: storeEpoch))
            }
            try await store.deleteRun(id: "r")
            #expect(try await store.pauses(runID: "r").isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func batchItems(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            // More items than one SQLite statement takes (200 rows), in no particular order.
            let items = (0..<450).reversed().map { BatchItemRecord(batchID: "b1", index: $0, status: "pending") }
            try await store.putBatchItems(items)
            try await store.putBatchItems([BatchItemRecord(batchID: "b2", index: 0, runID: "x", status: "success")])
            try await store.putBatchItems([
                BatchItemRecord(batchID: "b1", index: 7, runID: "run-7", status: "running"),
                BatchItemRecord(batchID: "b1", index: 449, runID: "run-449", status: "failed"),
            ])
            try await store.putBatchItems([])
            let loaded = try await store.batchItems(batchID: "b1")
            #expect(loaded.map(\.index) == Array(0..<450))
            #expect(loaded[7] == BatchItemRecord(batchID: "b1", index: 7, runID: "run-7", status: "running"))
            #expect(loaded[449].status == "failed")
            #expect(loaded[8].runID == nil && loaded[8].status == "pending")
            #expect(try await store.batchItems(batchID: "b2").map(\.runID) == ["x"])
            #expect(try await store.batchItems(batchID: "none").isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func blobsAreContentAddressed(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let value: JSON = ["c": ["e": "é", "d": 1.5], "b": 1, "a": [true, nil, "x"]]
            let sameInAnotherOrder: JSON = ["a": [true, nil, "x"], "b": 1, "c": ["d": 1.5, "e": "é"]]
            // sha256 of the compact text, keys as written, computed outside Swift (Python's hashlib).
            #expect(value.serialized() == #"{"c":{"e":"é","d":1.5},"b":1,"a":[true,null,"x"]}"#)
            let expectedID = "14170c9fc27b4a8816bbb4f79f428251511cc4b139c5c980c7440441243cfcf4"
            let id = try await store.putBlob(value)
            #expect(id == expectedID)
            #expect(ContentHash.blobID(of: value) == expectedID)
            // Another key order is another blob, as in Stepflow.
            let otherOrder = try await store.putBlob(sameInAnotherOrder)
            #expect(otherOrder == "18775bc7593915253c8a029e7794aaf073a3d8a119d86999e3dedf649a82f492")

            let read = try #require(try await store.blob(id: id))
            #expect(read == value)
            #expect(read.objectValue?.keys == ["c", "b", "a"])  // the order it was stored in
            #expect(try await store.blob(id: otherOrder)?.objectValue?.keys == ["a", "b", "c"])
            #expect(try await store.blob(id: String(repeating: "0", count: 64)) == nil)

            let other = try await store.putBlob(["a": [true, nil, "y"]])
            #expect(other != id)
            #expect(try await store.blob(id: other) == ["a": [true, nil, "y"]])
            #expect(try await store.putBlob("plain string") == ContentHash.sha256Hex(#""plain string""#))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func cacheHitMissAndClear(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.cachedResult(key: "k1") == nil)
            let before = Date().roundedForStore
            let output: JSON = ["sum": 3, "items": ["b", "a"]]
            try await store.putCachedResult(key: "k1", value: output)
            let hit = try #require(try await store.cachedResult(key: "k1"))
            #expect(hit.key == "k1")
            #expect(hit.value == output)
            #expect(hit.byteSize == output.serialized().utf8.count)
            #expect(hit.createdAt >= before && hit.createdAt <= Date().addingTimeInterval(1))
            #expect(try await store.cachedResult(key: "k2") == nil)

            // Replacing a key keeps one entry and counts the new size.
            try await store.putCachedResult(key: "k1", value: "x")
            #expect(try await store.cachedResult(key: "k1")?.value == "x")
            try await store.putCachedResult(key: "k2", value: [1, 2, 3])
            #expect(try await store.cacheStatistics() == CacheStatistics(entries: 2, bytes: 3 + 7))

            #expect(try await store.clearCache() == 2)
            #expect(try await store.cachedResult(key: "k1") == nil)
            #expect(try await store.cacheStatistics() == CacheStatistics(entries: 0, bytes: 0))
            #expect(try await store.clearCache() == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func cacheEvictsLeastRecentlyUsedEntries(kind: StoreKind) async throws {
        try await withStore(kind, cacheLimit: CacheLimit(maxEntries: 3)) { store in
            for key in ["a", "b", "c"] { try await store.putCachedResult(key: key, value: .string(key)) }
            _ = try await store.cachedResult(key: "a")  // a is now more recent than b and c
            try await store.putCachedResult(key: "d", value: "d")
            #expect(try await store.cachedResult(key: "b") == nil)
            #expect(try await store.cacheStatistics().entries == 3)
            try await store.putCachedResult(key: "e", value: "e")  // c was the least recently used
            #expect(try await store.cachedResult(key: "c") == nil)
            for key in ["a", "d", "e"] { #expect(try await store.cachedResult(key: key)?.value == .string(key)) }
            // Many more puts than the bound: it keeps holding.
            for i in 0..<100 { try await store.putCachedResult(key: "n\(i)", value: .int(i)) }
            #expect(try await store.cacheStatistics().entries == 3)
            for i in 97..<100 { #expect(try await store.cachedResult(key: "n\(i)")?.value == .int(i)) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func cacheBoundInBytes(kind: StoreKind) async throws {
        // "xxxxxxxx" serializes to 10 bytes: three fit in 30 bytes, not four.
        try await withStore(kind, cacheLimit: CacheLimit(maxBytes: 30)) { store in
            let ten: JSON = "xxxxxxxx"
            for key in ["a", "b", "c"] { try await store.putCachedResult(key: key, value: ten) }
            #expect(try await store.cacheStatistics() == CacheStatistics(entries: 3, bytes: 30))
            _ = try await store.cachedResult(key: "a")
            try await store.putCachedResult(key: "d", value: "xxxxxxxxxxxxxxxxxx")  // 20 bytes: b and c go
            #expect(try await store.cacheStatistics() == CacheStatistics(entries: 2, bytes: 30))
            #expect(try await store.cachedResult(key: "a") != nil)
            #expect(try await store.cachedResult(key: "b") == nil)
            #expect(try await store.cachedResult(key: "c") == nil)
            // A value larger than the bound is not cached, and evicts nothing.
            try await store.putCachedResult(key: "huge", value: .string(String(repeating: "y", count: 40)))
            #expect(try await store.cachedResult(key: "huge") == nil)
            #expect(try await store.cacheStatistics() == CacheStatistics(entries: 2, bytes: 30))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentCallsAllLand(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.putRun(sampleRun("r"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<64 {
                    group.addTask {
                        try await store.putCheckpoint(StepCheckpoint(runID: "r", stepID: "s\(i)", status: "success", output: .int(i)))
                        try await store.putBatchItems([BatchItemRecord(batchID: "b", index: i, status: "done")])
                        try await store.putCachedResult(key: "k\(i)", value: .int(i))
                    }
                }
                try await group.waitForAll()
            }
            #expect(Set(try await store.checkpoints(runID: "r").map(\.stepID)) == Set((0..<64).map { "s\($0)" }))
            #expect(try await store.batchItems(batchID: "b").count == 64)
            #expect(try await store.cacheStatistics().entries == 64)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aClosedStoreRefusesCalls(kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.putRun(sampleRun("r"))
        try await store.close()
        try await store.close()  // twice is fine
        await expectStoreError(.closed) { _ = try await store.run(id: "r") }
        await expectStoreError(.closed) { try await store.putCheckpoint(StepCheckpoint(runID: "r", stepID: "a", status: "success")) }
    }
}

@Suite("Store: SQLite")
struct SQLiteStoreTests {
    @Test func migratesAnEmptyFileAndReopensWithItsData() async throws {
        let path = try temporaryDirectory() + "/empty.db"
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let store = try await SQLiteRunStore(path: path)
        #expect(try await store.pragma("user_version") == String(SQLiteRunStore.schemaVersion))
        #expect(try await store.pragma("application_id") == String(SQLiteSchema.applicationID))
        #expect(try await store.pragma("journal_mode") == "wal")
        #expect(try await store.pragma("foreign_keys") == "1")
        #expect(try await store.pragma("synchronous") == "1")  // NORMAL
        try await store.putRun(sampleRun("kept"))
        try await store.putCheckpoint(StepCheckpoint(runID: "kept", stepID: "a", status: "success", output: ["v": 1]))
        let blob = try await store.putBlob(["big": [1, 2, 3]])
        try await store.putCachedResult(key: "k", value: "cached")
        try await store.close()

        // Reopening migrates nothing and finds everything.
        let again = try await SQLiteRunStore(path: path, durability: .powerLoss)
        #expect(try await again.pragma("synchronous") == "2")  // FULL
        #expect(try await again.run(id: "kept") == {
            var run = sampleRun("kept")
            run.createdAt = run.createdAt.roundedForStore
            run.updatedAt = run.createdAt
            return run
        }())
        #expect(try await again.checkpoints(runID: "kept").map(\.output) == [["v": 1]])
        #expect(try await again.blob(id: blob) == ["big": [1, 2, 3]])
        #expect(try await again.cachedResult(key: "k")?.value == "cached")
        try await again.close()
    }

    @Test func aStoreDroppedWithoutCloseIsClosedForIt() async throws {
        let path = try temporaryDirectory() + "/dropped.db"
        for i in 0..<3 {
            let store = try await SQLiteRunStore(path: path)
            try await store.putRun(sampleRun("run-\(i)"))
            // No close(): deinit closes the connection and its thread.
        }
        let store = try await SQLiteRunStore(path: path)
        #expect(try await store.listRuns(limit: 10).count == 3)
        try await store.close()
    }

    @Test func createsMissingFileAndFolders() async throws {
        let path = try temporaryDirectory() + "/a/b/c/nodal.db"
        let store = try await SQLiteRunStore(path: path)
        try await store.putRun(sampleRun("r"))
        try await store.close()
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func upgradesAnOlderSchemaInPlace() async throws {
        // Play an older Nodal (only migration 1) and a newer one (an extra migration).
        let path = try temporaryDirectory() + "/old.db"
        let old = try await SQLiteRunStore(path: path, durability: .processCrash, cacheLimit: .default, migrations: Array(SQLiteSchema.migrations.prefix(1)))
        // As that Nodal wrote a run (this one's putRun names columns of later versions).
        try await old.rawQuery("""
            INSERT INTO runs (id, flow_name, input, status, created_at, updated_at) VALUES ('from-v1', 'greet', '{}', 'running', 1, 1)
            """)
        try await old.close()
        let newer = SQLiteSchema.migrations + [["CREATE TABLE future_things (id TEXT PRIMARY KEY)", "INSERT INTO future_things (id) VALUES ('seed')"]]
        let upgraded = try await SQLiteRunStore(path: path, durability: .processCrash, cacheLimit: .default, migrations: newer)
        #expect(try await upgraded.pragma("user_version") == String(newer.count))
        #expect(try await upgraded.rawQuery("SELECT id FROM future_things") == [["id": "seed"]])
        #expect(try await upgraded.run(id: "from-v1") != nil)
        try await upgraded.close()
    }

    @Test func refusesADatabaseFromANewerNodal() async throws {
        let path = try temporaryDirectory() + "/newer.db"
        let store = try await SQLiteRunStore(path: path)
        try await store.putRun(sampleRun("r"))
        // As a newer Nodal would leave it: a higher version number (raw SQL).
        try await store.rawQuery("PRAGMA user_version = 99")
        try await store.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        let error = await expectStoreError(.newerSchema) { _ = try await SQLiteRunStore(path: path) }
        let message = error?.message ?? ""
        #expect(message.contains(path))
        #expect(message.contains("99"))
        #expect(message.contains("up to \(SQLiteRunStore.schemaVersion)"))
        #expect(message.contains("newer Nodal"))
        #expect(error?.path == path)
        // The file was left alone.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test(arguments: ["random bytes", "text", "truncated header"])
    func refusesAFileThatIsNotADatabase(content: String) async throws {
        let path = try temporaryDirectory() + "/broken.db"
        let bytes: Data
        switch content {
        case "random bytes":
            var generator = SystemRandomNumberGenerator()
            bytes = Data((0..<8192).map { _ in UInt8.random(in: 0...255, using: &generator) })
        case "text":
            bytes = Data(String(repeating: "name: not a database\nsteps: []\n", count: 200).utf8)
        default:
            bytes = Data("SQLite format 3\0".utf8) + Data(repeating: 0xFF, count: 200)
        }
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = await expectStoreError(.notADatabase) { _ = try await SQLiteRunStore(path: path) }
        #expect(error?.message.contains(path) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("not a Nodal run store") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test func refusesAnotherProgramsSQLiteDatabase() async throws {
        let path = try temporaryDirectory() + "/other.db"
        let other = try await SQLiteRunStore(path: path, durability: .processCrash, cacheLimit: .default, migrations: [])
        try await other.rawQuery("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        try await other.close()
        let error = await expectStoreError(.notANodalStore) { _ = try await SQLiteRunStore(path: path) }
        #expect(error?.message.contains(path) == true)
    }

    @Test func refusesAFolder() async throws {
        let folder = try temporaryDirectory()
        let error = await expectStoreError(.cannotOpen) { _ = try await SQLiteRunStore(path: folder) }
        #expect(error?.message.contains(folder) == true)
    }

    /// scripts/install-dependencies installs the sqlite3 shell.
    @Test func anotherProgramReadsTheData() async throws {
        let path = try temporaryDirectory() + "/shared.db"
        let store = try await SQLiteRunStore(path: path)
        try await store.putRun(sampleRun("r"))
        try await store.putCheckpoint(StepCheckpoint(runID: "r", stepID: "fetch", status: "success", output: ["n": 7]))
        // Still open: the sqlite3 shell reads the committed rows (from the WAL) while we hold the file.
        let result = try runProcess("/usr/bin/sqlite3", [path, "SELECT step_id, json_extract(output, '$.n') FROM step_checkpoints; PRAGMA user_version;"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "fetch|7\n\(SQLiteRunStore.schemaVersion)\n")
        try await store.close()
    }

    /// The durability promise: a checkpoint whose write returned survives the process being killed
    /// with SIGKILL right after. The child is `store-bench --write-then-die`.
    @Test func aCheckpointSurvivesSIGKILL() async throws {
        let path = try temporaryDirectory() + "/killed.db"
        try runProbeThatDies("--write-then-die", path)
        let store = try await SQLiteRunStore(path: path)
        let checkpoints = try await store.checkpoints(runID: "killed")
        #expect(checkpoints.map(\.stepID) == (0..<20).map { "step-\($0)" })
        #expect(checkpoints.last?.output == ["i": 19])
        #expect(try await store.run(id: "killed")?.status == .running)
        try await store.close()
    }
}

@Suite("Store: SHA-256 and locations")
struct StoreHashAndLocationTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        // FIPS 180-4 examples: the 448-bit and 896-bit messages.
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ])
    func sha256TestVectors(message: String, digest: String) {
        #expect(ContentHash.sha256Hex(message) == digest)
        #expect(ContentHash.sha256Hex(Array(message.utf8)) == digest)
        #expect(ContentHash.sha256(Array(message.utf8)).count == 32)
    }

    @Test func sha256OfAMillionAs() {
        #expect(ContentHash.sha256Hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Lengths around the padding boundaries (55/56 bytes fit one block or need two), from hashlib.
    @Test(arguments: [
        (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
        (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
        (128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"),
        (129, "c12cb024a2e5551cca0e08fce8f1c5e314555cc3fef6329ee994a3db752166ae"),
    ])
    func sha256AtBlockBoundaries(length: Int, digest: String) {
        #expect(ContentHash.sha256Hex(String(repeating: "a", count: length)) == digest)
    }

    @Test func sha256InPiecesEqualsOneShot() {
        let message = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let expected = ContentHash.sha256Hex(message)
        for split in [1, 3, 55, 63, 64, 65, 127, 200] {
            var hasher = SHA256()
            var offset = 0
            while offset < message.count {
                let end = min(offset + split, message.count)
                hasher.update(message[offset..<end])
                offset = end
            }
            #expect(ContentHash.hex(hasher.finalize()) == expected, "pieces of \(split)")
        }
        // A non-contiguous collection hashes the same.
        #expect(ContentHash.sha256Hex(message.lazy.map { $0 }) == expected)
    }

    @Test(arguments: [
        ("inMemory", RunStoreLocation.inMemory),
        ("memory", .inMemory),
        ("sqlite::memory:", .sqlite(path: ":memory:")),
        ("sqlite://:memory:", .sqlite(path: ":memory:")),
        (":memory:", .sqlite(path: ":memory:")),
        ("sqlite:path/to/file.db", .sqlite(path: "/base/path/to/file.db")),
        ("sqlite:///abs/path.db", .sqlite(path: "/abs/path.db")),
        ("sqlite://rel.db?mode=rwc", .sqlite(path: "/base/rel.db")),
        ("sqlite:/abs/x.db#frag", .sqlite(path: "/abs/x.db")),
        ("sqlite:///my%20runs.db", .sqlite(path: "/my runs.db")),
        ("file:///var/lib/nodal.db", .sqlite(path: "/var/lib/nodal.db")),
        ("runs.db", .sqlite(path: "/base/runs.db")),
        ("  /abs/runs.db  ", .sqlite(path: "/abs/runs.db")),
    ])
    func parsesStoreLocations(text: String, expected: RunStoreLocation) throws {
        #expect(try RunStoreLocation(parsing: text, relativeTo: "/base") == expected)
    }

    @Test(arguments: [
        ("postgres://nodal:pw@db.example/runs", PostgresLocation(endpoint: .tcp(host: "db.example", port: 5432), user: "nodal", password: "pw", database: "runs")),
        ("POSTGRESQL://nodal@db.example:6543/runs?sslmode=require&pool_size=3",
         PostgresLocation(endpoint: .tcp(host: "db.example", port: 6543), user: "nodal", database: "runs", tls: .require, poolSize: 3)),
        ("postgres://n@[::1]:5433/d", PostgresLocation(endpoint: .tcp(host: "::1", port: 5433), user: "n", database: "d")),
        ("postgres://n@%2Ftmp%2Fpg/d", PostgresLocation(endpoint: .unixSocket(directory: "/tmp/pg", port: 5432), user: "n", database: "d")),
        ("postgres://n@/d?host=/tmp/pg&port=7000", PostgresLocation(endpoint: .unixSocket(directory: "/tmp/pg", port: 7000), user: "n", database: "d")),
        ("postgres://n@/", PostgresLocation(endpoint: .unixSocket(directory: "/var/run/postgresql", port: 5432), user: "n", database: "n")),
        // A password with @ and : in it (escaped or not), a user given in the query.
        ("postgres://u:p%40ss:w@rd@db/d?sslmode=disable", PostgresLocation(endpoint: .tcp(host: "db", port: 5432), user: "u", password: "p@ss:w@rd", database: "d", tls: .disable)),
        ("postgres://db/d?user=q&password=s&dbname=e#frag", PostgresLocation(endpoint: .tcp(host: "db", port: 5432), user: "q", password: "s", database: "e")),
        ("postgres://n@db/d?sslmode=verify-ca", PostgresLocation(endpoint: .tcp(host: "db", port: 5432), user: "n", database: "d", tls: .verifyFull)),
    ])
    func parsesPostgresLocations(text: String, expected: PostgresLocation) throws {
        #expect(try RunStoreLocation(parsing: text) == .postgres(expected))
        // What messages show reads back as the same place (the password aside).
        var shown = expected
        shown.password = nil
        let description = expected.description.replacingOccurrences(of: ":***", with: "")
        #expect(try PostgresLocation(url: description) == shown, "\(description)")
        #expect(!expected.description.contains("p@ss") && !expected.description.contains(":pw@"))
    }

    @Test func aPostgresURLWithoutAUserIsTheProcesssUser() throws {
        let location = try PostgresLocation(url: "postgres://db.example/runs")
        #expect(location.user == NSUserName() || location.user == ProcessInfo.processInfo.userName)
        #expect(location.database == "runs")
        #expect(location.serverDescription == "db.example:5432")
        #expect(try PostgresLocation(url: "postgres://n@/d?host=/s&port=9").serverDescription == "/s/.s.PGSQL.9")
    }

    @Test func relativePathsWithoutABaseStayRelative() throws {
        #expect(try RunStoreLocation(parsing: "sqlite:x.db") == .sqlite(path: "x.db"))
        #expect(try RunStoreLocation(parsing: "~/n.db") == .sqlite(path: FileManager.default.homeDirectoryForCurrentUser.path + "/n.db"))
    }

    @Test(arguments: [
        ("postgres://nodal:secret@db.example/nodal?pool_size=0", "pool_size '0'"),
        ("postgresql://nodal:secret@db/nodal?sslmode=sometimes", "sslmode 'sometimes'"),
        ("postgres://nodal:secret@db/nodal?connect_timeout=3", "parameter 'connect_timeout'"),
        ("postgres://nodal:secret@db:99999/nodal", "port '99999'"),
        ("postgres://nodal:secret@db:x/nodal", "port 'x'"),
        ("postgres://nodal:secret@[::1/nodal", "unclosed ["),
        ("postgres://nodal:secret@a,b/nodal", "several hosts"),
        ("postgres://nodal:se%zzcret@db/nodal", "broken %-escape"),
        ("mysql://nodal:secret@db/nodal", "unsupported run store location"),
        ("", "empty"),
        ("sqlite:", "names no database file"),
    ])
    func refusesOtherLocations(text: String, message: String) {
        do {
            _ = try RunStoreLocation(parsing: text)
            Issue.record("'\(text)' was accepted")
        } catch {
            #expect(error.kind == .unsupportedLocation)
            #expect(error.message.contains(message), "\(error.message)")
            #expect(!error.message.contains("secret"))  // passwords are not echoed
        }
    }

    @Test func stepflowStorageConfig() throws {
        #expect(try RunStoreLocation(storageConfig: ["type": "inMemory"]) == .inMemory)
        #expect(try RunStoreLocation(storageConfig: ["type": "sqlite", "databaseUrl": "sqlite::memory:"]) == .sqlite(path: ":memory:"))
        #expect(
            try RunStoreLocation(
                storageConfig: ["type": "sqlite", "databaseUrl": "sqlite:workflow_state.db", "autoMigrate": true, "maxConnections": 10],
                relativeTo: "/configs") == .sqlite(path: "/configs/workflow_state.db"))
        #expect(throws: RunStoreError.self) { try RunStoreLocation(storageConfig: ["type": "sqlite"]) }
        #expect(
            try RunStoreLocation(storageConfig: ["type": "postgres", "databaseUrl": "postgres://n@db/x", "maxConnections": 4])
                == .postgres(PostgresLocation(endpoint: .tcp(host: "db", port: 5432), user: "n", database: "x", poolSize: 4)))
        #expect(throws: RunStoreError.self) { try RunStoreLocation(storageConfig: ["type": "postgres"]) }
        #expect(throws: RunStoreError.self) { try RunStoreLocation(storageConfig: ["type": "postgres", "databaseUrl": "sqlite:x.db"]) }
        #expect(throws: RunStoreError.self) { try RunStoreLocation(storageConfig: "sqlite") }
    }

    @Test func defaultPathRule() {
        #expect(RunStoreLocation.defaultPath(environment: ["NODAL_STORE": "/srv/nodal.db", "HOME": "/home/ada"]) == "/srv/nodal.db")
        #expect(RunStoreLocation.defaultPath(environment: ["NODAL_STORE": "", "XDG_DATA_HOME": "/data", "HOME": "/home/ada"]) == "/data/nodal/nodal.db")
        #expect(RunStoreLocation.defaultPath(environment: ["XDG_DATA_HOME": "relative", "HOME": "/home/ada"]) == "/home/ada/.local/share/nodal/nodal.db")
        #expect(RunStoreLocation.defaultPath(environment: ["HOME": "/home/ada"]) == "/home/ada/.local/share/nodal/nodal.db")
        #expect(RunStoreLocation.defaultPath.hasSuffix("nodal.db") || ProcessInfo.processInfo.environment["NODAL_STORE"] != nil)
    }

    @Test func opensEachKindByURL() async throws {
        let memory = try await RunStoreLocation.open(url: "inMemory")
        #expect(memory is InMemoryRunStore)
        try await memory.close()
        let sqlite = try await RunStoreLocation.open(url: "sqlite::memory:")
        #expect((sqlite as? SQLiteRunStore)?.path == ":memory:")
        try await sqlite.close()
        let path = try temporaryDirectory() + "/by-url.db"
        let file = try await RunStoreLocation.open(url: "sqlite://" + path + "?mode=rwc")
        try await (file as! any RunStorage).putRun(sampleRun("r"))
        try await file.close()
        #expect(FileManager.default.fileExists(atPath: path))
    }
}
