import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

// The run service's runs (`ServiceRunStorage`): the same behaviours on every store, then the SQLite
// file's migration from the version before the table existed.

/// Runs `body` with a fresh store and closes it afterwards, whether `body` threw or not.
func withServiceStore(_ kind: StoreKind, _ body: (any ServiceRunStorage) async throws -> Void) async throws {
    let store = try await kind.makeServiceStore()
    do {
        try await body(store)
    } catch {
        try await store.close()
        throw error
    }
    try await store.close()
}

func sampleServiceRun(
    _ id: String, createdAt: Date = storeEpoch, status: RunRecord.Status = .running, flowName: String? = "greet",
    parent: String? = nil, root: String? = nil, depth: Int = 0, itemCount: Int = 2
) -> ServiceRunRecord {
    ServiceRunRecord(
        id: id, flowID: ContentHash.sha256Hex("flow of " + id), flowName: flowName, status: status,
        request: [
            "items": [["zeta": 1, "alpha": ["y": true, "b": nil]], ["name": "Ada"]],
            "overrides": [:], "variables": ["region": "eu"], "maxConcurrency": 4,
        ],
        itemCount: itemCount, counts: ServiceRunCounts(succeeded: 1), createdAt: createdAt,
        parentRunID: parent, rootRunID: root, depth: depth)
}

/// `run` as a store gives it back: its times to the millisecond.
func storedForm(_ run: ServiceRunRecord) -> ServiceRunRecord {
    var run = run
    run.createdAt = run.createdAt.roundedForStore
    run.completedAt = run.completedAt?.roundedForStore
    return run
}

@Suite("ServiceRunStore: every implementation")
struct ServiceRunStoreTests {
    /// Hostile review: a page of `GET /runs` decoded every listed run's stored request (a 15 MiB
    /// input made a page take 2 s). A list that asks for no requests gets them as null, the rest
    /// of each record as stored.
    @Test(arguments: StoreKind.allCases)
    func aListWithoutRequestsLeavesThemInTheStore(kind: StoreKind) async throws {
        try await withServiceStore(kind) { store in
            let run = sampleServiceRun("run-1")
            try await store.putServiceRun(run)
            let full = try await store.listServiceRuns(ServiceRunFilter())
            #expect(full == [storedForm(run)])
            let light = try await store.listServiceRuns(ServiceRunFilter(includeRequest: false))
            var expected = storedForm(run)
            expected.request = .null
            #expect(light == [expected])
            #expect(try await store.serviceRun(id: "run-1")?.request == run.request)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func putReadAndReplaceKeepingTheListPosition(kind: StoreKind) async throws {
        try await withServiceStore(kind) { store in
            let first = sampleServiceRun("run-1")
            try await store.putServiceRun(first)
            let read = try #require(try await store.serviceRun(id: "run-1"))
            #expect(read == storedForm(first))
            #expect(read.createdAt.timeIntervalSince1970 == 1_763_690_000.123)
            // The request comes back as written, keys in their order.
            #expect(read.request == first.request)
            #expect(read.request.objectValue?.keys == ["items", "overrides", "variables", "maxConcurrency"])
            #expect(read.request["items"]?[0]?.objectValue?.keys == ["zeta", "alpha"])
            #expect(read.request["items"]?[0]?["alpha"]?.objectValue?.keys == ["y", "b"])
            #expect(try await store.serviceRun(id: "missing") == nil)

            // Newest first; two in the same millisecond (once rounded): the one put last first.
            try await store.putServiceRun(sampleServiceRun("run-2", createdAt: storeEpoch.addingTimeInterval(5)))
            try await store.putServiceRun(sampleServiceRun("run-3", createdAt: storeEpoch.addingTimeInterval(4.9998)))
            try await store.putServiceRun(sampleServiceRun("run-0", createdAt: storeEpoch.addingTimeInterval(-5)))
            let all = ServiceRunFilter()
            #expect(try await store.listServiceRuns(all).map(\.id) == ["run-3", "run-2", "run-1", "run-0"])

            // Putting it again replaces every field and keeps its place.
            var replaced = sampleServiceRun("run-2", createdAt: storeEpoch.addingTimeInterval(5), status: .failed, flowName: nil)
            replaced.flowID = ContentHash.sha256Hex("another flow")
            replaced.request = ["items": [], "note": "replaced"]
            replaced.itemCount = 7
            replaced.counts = ServiceRunCounts(succeeded: 3, failed: 2, canceled: 1, paused: 1)
            replaced.completedAt = storeEpoch.addingTimeInterval(9.9996)
            replaced.parentRunID = "p"
            replaced.rootRunID = "r"
            replaced.depth = 3
            try await store.putServiceRun(replaced)
            #expect(try await store.serviceRun(id: "run-2") == storedForm(replaced))
            #expect(try await store.serviceRun(id: "run-2")?.completedAt == Date(timeIntervalSince1970: 1_763_690_010.123))
            #expect(try await store.listServiceRuns(all).map(\.id) == ["run-3", "run-2", "run-1", "run-0"])
            // Put back as it was: every field replaced again, optional ones cleared.
            try await store.putServiceRun(sampleServiceRun("run-2", createdAt: storeEpoch.addingTimeInterval(5)))
            #expect(try await store.serviceRun(id: "run-2") == storedForm(sampleServiceRun("run-2", createdAt: storeEpoch.addingTimeInterval(5))))
            #expect(try await store.listServiceRuns(all).map(\.id) == ["run-3", "run-2", "run-1", "run-0"])
        }
    }

    /// A tree of sub-runs and a second root: every filter alone and combined, checked against
    /// `ServiceRunFilter.matches` over the whole list, and by name where the answer is plain.
    @Test(arguments: StoreKind.allCases)
    func everyFilter(kind: StoreKind) async throws {
        try await withServiceStore(kind) { store in
            let runs = [
                sampleServiceRun("a", createdAt: storeEpoch),
                sampleServiceRun("a.1", createdAt: storeEpoch.addingTimeInterval(1), status: .success, parent: "a", root: "a", depth: 1),
                sampleServiceRun("a.2", createdAt: storeEpoch.addingTimeInterval(2), flowName: "inner", parent: "a", root: "a", depth: 1),
                sampleServiceRun("a.1.1", createdAt: storeEpoch.addingTimeInterval(3), status: .failed, flowName: nil, parent: "a.1", root: "a", depth: 2),
                sampleServiceRun("b", createdAt: storeEpoch.addingTimeInterval(4), status: .success, flowName: "other"),
                sampleServiceRun("b.1", createdAt: storeEpoch.addingTimeInterval(5), status: .paused, parent: "b", root: "b", depth: 1),
            ]
            for run in runs { try await store.putServiceRun(run) }
            let newestFirst = runs.reversed().map(storedForm)

            let filters: [(ServiceRunFilter, [String])] = [
                (ServiceRunFilter(), ["b.1", "b", "a.1.1", "a.2", "a.1", "a"]),
                (ServiceRunFilter(status: .success), ["b", "a.1"]),
                (ServiceRunFilter(status: .canceled), []),
                (ServiceRunFilter(flowName: "greet"), ["b.1", "a.1", "a"]),
                (ServiceRunFilter(flowName: "inner"), ["a.2"]),
                (ServiceRunFilter(parentRunID: "a"), ["a.2", "a.1"]),
                (ServiceRunFilter(parentRunID: "a.1.1"), []),
                (ServiceRunFilter(rootRunID: "a"), ["a.1.1", "a.2", "a.1", "a"]),
                (ServiceRunFilter(rootRunID: "b"), ["b.1", "b"]),
                (ServiceRunFilter(rootRunID: "a.1"), ["a.1"]),  // itself; its child's root is "a"
                (ServiceRunFilter(rootsOnly: true), ["b", "a"]),
                (ServiceRunFilter(maxDepth: 0), ["b", "a"]),
                (ServiceRunFilter(maxDepth: 1), ["b.1", "b", "a.2", "a.1", "a"]),
                (ServiceRunFilter(maxDepth: -1), []),
                (ServiceRunFilter(status: .running, flowName: "greet", rootRunID: "a"), ["a"]),
                (ServiceRunFilter(flowName: "greet", parentRunID: "b", rootRunID: "b", maxDepth: 1), ["b.1"]),
                (ServiceRunFilter(rootRunID: "a", rootsOnly: true), ["a"]),
                (ServiceRunFilter(parentRunID: "a", rootsOnly: true), []),
            ]
            for (filter, expected) in filters {
                let listed = try await store.listServiceRuns(filter)
                #expect(listed.map(\.id) == expected, "\(filter)")
                #expect(listed == newestFirst.filter(filter.matches), "\(filter)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func paging(kind: StoreKind) async throws {
        try await withServiceStore(kind) { store in
            for i in 0..<7 {
                try await store.putServiceRun(sampleServiceRun("r\(i)", createdAt: storeEpoch.addingTimeInterval(Double(i))))
            }
            // One odd one out, so paging counts only what matches.
            try await store.putServiceRun(sampleServiceRun("x", createdAt: storeEpoch.addingTimeInterval(3.5), flowName: "other"))
            func page(limit: Int, offset: Int) async throws -> [String] {
                try await store.listServiceRuns(ServiceRunFilter(flowName: "greet", limit: limit, offset: offset)).map(\.id)
            }
            #expect(try await page(limit: 3, offset: 0) == ["r6", "r5", "r4"])
            #expect(try await page(limit: 3, offset: 3) == ["r3", "r2", "r1"])
            #expect(try await page(limit: 3, offset: 6) == ["r0"])
            #expect(try await page(limit: 3, offset: 7) == [])
            #expect(try await page(limit: 100, offset: 2) == ["r4", "r3", "r2", "r1", "r0"])
            #expect(try await page(limit: 0, offset: 0) == [])
            #expect(try await page(limit: -1, offset: 0) == [])
            #expect(try await page(limit: 2, offset: -5) == ["r6", "r5"])
            #expect(try await page(limit: Int.max, offset: Int.max) == [])
            #expect(try await store.listServiceRuns(ServiceRunFilter(limit: 2, offset: 2)).map(\.id) == ["r4", "x"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func updateSetsStatusCountsAndCompletionOrThrowsRunNotFound(kind: StoreKind) async throws {
        try await withServiceStore(kind) { store in
            let run = sampleServiceRun("s")
            try await store.putServiceRun(run)
            let counts = ServiceRunCounts(succeeded: 5, failed: 4, canceled: 3, paused: 2)
            let done = storeEpoch.addingTimeInterval(61.0009)
            try await store.updateServiceRun(id: "s", status: .failed, counts: counts, completedAt: done)
            var expected = storedForm(run)
            expected.status = .failed
            expected.counts = counts
            expected.completedAt = done.roundedForStore
            #expect(try await store.serviceRun(id: "s") == expected)
            #expect(expected.completedAt == Date(timeIntervalSince1970: 1_763_690_061.124))
            // Running again (a resume): no completion time.
            try await store.updateServiceRun(id: "s", status: .running, counts: ServiceRunCounts(), completedAt: nil)
            #expect(try await store.serviceRun(id: "s")?.completedAt == nil)
            #expect(try await store.serviceRun(id: "s")?.counts == ServiceRunCounts())

            let error = await expectStoreError(.runNotFound) {
                try await store.updateServiceRun(id: "nope", status: .success, counts: counts, completedAt: done)
            }
            #expect(error?.message.contains("'nope'") == true)
            #expect(try await store.serviceRun(id: "nope") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func deleteRemovesTheItemRunsWithTheirCheckpointsPausesAndLeases(kind: StoreKind) async throws {
        try await withServiceStore(kind) { store in
            try await store.putServiceRun(sampleServiceRun("svc", itemCount: 3))
            try await store.putServiceRun(sampleServiceRun("svc-1x", itemCount: 1))
            // Its items, and runs with look-alike ids that are not its items.
            let itemIDs = ["svc-0", "svc-1", "svc-2"]
            let others = ["svc-3", "svc-10", "svc", "svc-1x-0", "unrelated"]
            let lease = storeEpoch.addingTimeInterval(3600)
            for id in itemIDs + others {
                try await store.putRun(sampleRun(id))
                try await store.putCheckpoint(StepCheckpoint(runID: id, stepID: "a", status: "success", output: ["id": .string(id)]))
                try await store.putPause(PauseRecord(runID: id, resumeKey: "ask", stepID: "ask", value: "?", createdAt: storeEpoch))
                _ = try await store.claimLease(RunLease(runID: id, owner: "me", host: "h", pid: 1, expiresAt: lease), now: storeEpoch, replacing: nil)
            }

            #expect(try await store.deleteServiceRun(id: "svc"))
            #expect(try await store.serviceRun(id: "svc") == nil)
            for id in itemIDs {
                #expect(try await store.run(id: id) == nil, "\(id)")
                #expect(try await store.checkpoints(runID: id).isEmpty, "\(id)")
                #expect(try await store.pauses(runID: id).isEmpty, "\(id)")
                #expect(try await store.lease(runID: id) == nil, "\(id)")
            }
            for id in others {
                #expect(try await store.run(id: id) != nil, "\(id)")
                #expect(try await store.checkpoints(runID: id).map(\.output) == [["id": .string(id)]], "\(id)")
                #expect(try await store.pauses(runID: id).count == 1, "\(id)")
                #expect(try await store.lease(runID: id)?.owner == "me", "\(id)")
            }
            #expect(try await store.serviceRun(id: "svc-1x") != nil)
            #expect(try await !store.deleteServiceRun(id: "svc"))
            #expect(try await !store.deleteServiceRun(id: "never"))

            // A run with no items deletes only itself.
            try await store.putServiceRun(sampleServiceRun("empty", itemCount: 0))
            try await store.putRun(sampleRun("empty-0"))
            #expect(try await store.deleteServiceRun(id: "empty"))
            #expect(try await store.run(id: "empty-0") != nil)
            #expect(try await store.listServiceRuns(ServiceRunFilter()).map(\.id) == ["svc-1x"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func deleteBlobRemovesJSONFlowAndBytesBlobs(kind: StoreKind) async throws {
        try await withServiceStore(kind) { store in
            let data = try await store.putBlob(["data": [1, 2, 3]])
            let flow = try await store.putBlob(["steps": [], "output": ["$input": "x"]], type: .flow)
            let bytes = try await store.putBytes([0, 1, 2, 255], type: "application/octet-stream")
            let kept = try await store.putBlob("kept")
            for id in [data, flow, bytes] {
                #expect(try await store.storedBlob(id: id) != nil)
                #expect(try await store.deleteBlob(id: id), "\(id)")
                #expect(try await store.storedBlob(id: id) == nil, "\(id)")
                #expect(try await store.blob(id: id) == nil, "\(id)")
                #expect(try await !store.deleteBlob(id: id), "\(id)")
            }
            #expect(try await !store.deleteBlob(id: String(repeating: "0", count: 64)))
            #expect(try await store.blob(id: kept) == "kept")
            // Stored again after its deletion, a flow is a flow blob again.
            #expect(try await store.putBlob(["steps": [], "output": ["$input": "x"]], type: .flow) == flow)
            #expect(try await store.storedBlob(id: flow)?.type == "flow")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aClosedStoreRefusesEveryServiceCall(kind: StoreKind) async throws {
        let store = try await kind.makeServiceStore()
        try await store.putServiceRun(sampleServiceRun("s"))
        try await store.close()
        await expectStoreError(.closed) { try await store.putServiceRun(sampleServiceRun("t")) }
        await expectStoreError(.closed) { _ = try await store.serviceRun(id: "s") }
        await expectStoreError(.closed) { _ = try await store.listServiceRuns(ServiceRunFilter()) }
        await expectStoreError(.closed) {
            try await store.updateServiceRun(id: "s", status: .success, counts: ServiceRunCounts(), completedAt: nil)
        }
        await expectStoreError(.closed) { try await store.deleteServiceRun(id: "s") }
        await expectStoreError(.closed) { try await store.deleteBlob(id: "x") }
    }
}

@Suite("ServiceRunStore: SQLite")
struct SQLiteServiceRunStoreTests {
    /// A file as a Nodal of schema version 3 wrote it (its own code path, migrations 1 to 3) opens
    /// at version 4, keeps its runs, checkpoints and blobs, and takes service runs.
    @Test func aVersion3FileIsMigratedAndKeepsItsRuns() async throws {
        let path = try temporaryDirectory() + "/v3.db"
        let old = try await SQLiteRunStore(path: path, durability: .processCrash, cacheLimit: .default, migrations: Array(SQLiteSchema.migrations.prefix(3)))
        var child = sampleRun("svc-0")
        child.parentRunID = "parent"
        child.rootRunID = "root"
        try await old.putRun(child)
        try await old.putCheckpoint(StepCheckpoint(runID: "svc-0", stepID: "a", status: "success", output: ["n": 1]))
        let blob = try await old.putBlob(["kept": true], type: .flow)
        let bytes = try await old.putBytes([9, 8, 7], type: "image/png")
        #expect(try await old.pragma("user_version") == "3")
        // The v3 code has no service runs.
        await #expect(throws: RunStoreError.self) { try await old.rawQuery("SELECT count(*) FROM service_runs") }
        try await old.close()

        let store = try await SQLiteRunStore(path: path)
        #expect(SQLiteRunStore.schemaVersion == 4)
        #expect(try await store.pragma("user_version") == "4")
        #expect(try await store.run(id: "svc-0") == {
            var run = child
            run.createdAt = run.createdAt.roundedForStore
            run.updatedAt = run.createdAt
            return run
        }())
        #expect(try await store.checkpoints(runID: "svc-0").map(\.output) == [["n": 1]])
        #expect(try await store.storedBlob(id: blob) == StoredBlob(content: .json(["kept": true]), type: "flow"))
        #expect(try await store.storedBlob(id: bytes) == StoredBlob(content: .bytes([9, 8, 7]), type: "image/png"))
        #expect(try await store.listServiceRuns(ServiceRunFilter()).isEmpty)

        // The run the old file's item belongs to can be recorded now, and deleting it takes the item.
        try await store.putServiceRun(sampleServiceRun("svc", itemCount: 1))
        try await store.close()
        let reopened = try await SQLiteRunStore(path: path)
        #expect(try await reopened.serviceRun(id: "svc") == storedForm(sampleServiceRun("svc", itemCount: 1)))
        #expect(try await reopened.deleteServiceRun(id: "svc"))
        #expect(try await reopened.run(id: "svc-0") == nil)
        #expect(try await reopened.checkpoints(runID: "svc-0").isEmpty)
        try await reopened.close()
    }

    /// Filters run in SQL on the indexes, not in Swift after a scan; the sqlite3 shell reads the table.
    @Test func anotherProgramReadsServiceRuns() async throws {
        let path = try temporaryDirectory() + "/svc.db"
        let store = try await SQLiteRunStore(path: path)
        try await store.putServiceRun(sampleServiceRun("s", itemCount: 3))
        try await store.updateServiceRun(id: "s", status: .success, counts: ServiceRunCounts(succeeded: 3), completedAt: storeEpoch)
        try await store.close()
        let result = try runProcess("/usr/bin/sqlite3", [
            path, "SELECT status, item_count, succeeded, json_extract(request, '$.variables.region'), completed_at FROM service_runs",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "success|3|3|eu|1763690000123\n")
    }

    /// Many items are deleted in one statement per table, not one per item.
    @Test func deletingARunWithManyItems() async throws {
        let store = try await SQLiteRunStore(path: ":memory:")
        let count = 2_000
        try await store.putServiceRun(sampleServiceRun("big", itemCount: count))
        for i in stride(from: 0, to: count, by: 1) {
            try await store.putRun(sampleRun("big-\(i)"))
        }
        try await store.putRun(sampleRun("big-\(count)"))
        #expect(try await store.deleteServiceRun(id: "big"))
        #expect(try await store.rawQuery("SELECT id FROM runs") == [["id": "big-\(count)"]])
        try await store.close()
    }
}
