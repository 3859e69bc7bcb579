import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

// What the SQLite store's own driver adds (StoreTests checks the behaviours every store shares,
// the grouped durability included): calls on the caller's thread that hand over to a thread of
// their own when another process holds the lock, the statement cache, and checkpoints written
// behind runs (`.grouped`): in order, flushed before anything else, failures kept for their run.
@Suite("Store: SQLite driver and grouped checkpoints")
struct SQLiteDriverTests {
    func checkpoint(_ run: String, _ step: String, _ n: Int = 0) -> StepCheckpoint {
        StepCheckpoint(runID: run, stepID: step, status: "success", output: ["n": .int(n)])
    }

    /// A write that meets another connection's write lock does not fail and does not hold the
    /// caller's thread: it waits on the store's own thread, and lands once the lock is let go.
    @Test func aWriteThatMeetsAnotherConnectionsLockWaitsOnItsOwnThread() async throws {
        let path = try temporaryDirectory() + "/locked.db"
        let store = try await SQLiteRunStore(path: path)
        let other = try await SQLiteRunStore(path: path)
        // The other connection's transaction stays open after the call: it holds the write lock.
        try await other.rawQuery("BEGIN IMMEDIATE")
        let write = Task { try await store.putRun(sampleRun("waited")) }
        // The write failed inline with SQLITE_BUSY and went to the store's thread, where it waits.
        var polls = 0
        while store.callsHandedOver == 0, polls < 30_000 {
            try await Task.sleep(for: .milliseconds(1))
            polls += 1
        }
        #expect(store.callsHandedOver == 1)
        try await other.rawQuery("COMMIT")
        try await write.value
        #expect(try await other.run(id: "waited")?.status == .running)
        try await store.close()
        try await other.close()
    }

    /// A write still locked out after the busy timeout fails with an error naming the store and
    /// the write, and leaves the store usable.
    @Test func aLockHeldPastTheTimeoutFailsTheWriteClearly() async throws {
        let path = try temporaryDirectory() + "/held.db"
        let store = try await SQLiteRunStore(path: path, durability: .processCrash, cacheLimit: .default, migrations: SQLiteSchema.migrations, busyTimeoutMilliseconds: 50)
        let other = try await SQLiteRunStore(path: path)
        try await other.rawQuery("BEGIN IMMEDIATE")
        let error = await expectStoreError(.database) { try await store.putRun(sampleRun("late")) }
        #expect(error?.message.contains("saving run late") == true)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("locked") == true)
        try await other.rawQuery("COMMIT")
        try await store.putRun(sampleRun("late"))
        #expect(try await store.run(id: "late") != nil)
        try await store.close()
        try await other.close()
    }

    /// More statement shapes than the cache keeps: it starts again, and every statement still runs.
    @Test func theStatementCacheStartsAgainWhenFull() async throws {
        let store = try await SQLiteRunStore(path: ":memory:")
        try await store.putRun(sampleRun("r"))
        for n in 0..<300 {
            let rows = try await store.rawQuery("SELECT \(n) AS n, count(*) AS runs FROM runs")
            #expect(rows == [["n": "\(n)", "runs": "1"]])
        }
        try await store.putCheckpoint(checkpoint("r", "a"))
        #expect(try await store.checkpoints(runID: "r").map(\.stepID) == ["a"])
        try await store.close()
    }

    /// Empty text and empty bytes are stored as empty, not NULL.
    @Test func emptyValuesStayEmpty() async throws {
        let store = try await SQLiteRunStore(path: try temporaryDirectory() + "/empty.db")
        let id = try await store.putBytes([], type: "application/octet-stream")
        let blob = try #require(try await store.storedBlob(id: id))
        #expect(blob.content == .bytes([]))
        try await store.putRun(RunRecord(id: "e", flowName: "", input: [:], status: .running, createdAt: storeEpoch))
        #expect(try await store.run(id: "e")?.flowName == "")
        try await store.close()
    }

    /// Grouped: checkpoints of several runs written behind them land in order, each run's own,
    /// and a read after them sees them all (reads wait for the queue).
    @Test func groupedCheckpointsLandInOrderAndReadsSeeThem() async throws {
        let store = try await SQLiteRunStore(path: try temporaryDirectory() + "/grouped.db", durability: .grouped)
        for run in ["r1", "r2"] { try await store.putRun(sampleRun(run)) }
        await withThrowingTaskGroup(of: Void.self) { group in
            for run in ["r1", "r2"] {
                group.addTask {
                    for n in 0..<500 { try await store.putCheckpoint(checkpoint(run, "s\(n)", n)) }
                }
            }
        }
        for run in ["r1", "r2"] {
            let written = try await store.checkpoints(runID: run)
            #expect(written.map(\.stepID) == (0..<500).map { "s\($0)" })
            #expect(written.last?.output == ["n": 499])
        }
        try await store.close()
    }

    /// Grouped: a checkpoint that cannot be written (its run has no record) fails that run's
    /// flush and next write, once, and not the other run's checkpoints queued with it.
    @Test func aGroupedWriteThatFailsIsReportedToItsRunOnly() async throws {
        let store = try await SQLiteRunStore(path: try temporaryDirectory() + "/failing.db", durability: .grouped)
        try await store.putRun(sampleRun("good"))
        try await store.putCheckpoints([checkpoint("good", "a"), checkpoint("ghost", "a"), checkpoint("good", "b")])
        try await store.flushCheckpoints(runID: "good")
        let error = await expectStoreError(.runNotFound) { try await store.flushCheckpoints(runID: "ghost") }
        #expect(error?.message.contains("ghost") == true)
        // Told once: the run may go on (its next write is judged on its own).
        try await store.flushCheckpoints(runID: "ghost")
        #expect(try await store.checkpoints(runID: "good").map(\.stepID) == ["a", "b"])

        try await store.putCheckpoint(checkpoint("ghost", "b"))
        try await store.flushCheckpoints(runID: "good")
        await expectStoreError(.runNotFound) { try await store.putCheckpoint(checkpoint("ghost", "c")) }
        try await store.close()
    }

    /// Grouped, through the engine: a run whose checkpoints cannot be written fails with
    /// STORE_ERROR naming the run, although its steps ran before the failure was known.
    @Test func aRunWhoseGroupedCheckpointsFailFailsWithStoreError() async throws {
        let store = try await SQLiteRunStore(path: try temporaryDirectory() + "/deleted.db", durability: .grouped)
        let engine = Engine()
        let gate = Gate()
        engine.register(route: "/app/wait") { input, _ in
            await gate.wait()
            return input
        }
        let flow = try Flow(yaml: """
            steps:
              - { id: a, component: /app/wait, input: { n: 1 } }
              - { id: b, component: /app/wait, input: { n: { $step: a, path: n } } }
            output: { $step: b, path: n }
            """)
        let run = Task { await engine.run(flow, input: [:], options: RunOptions(runID: "doomed", store: store)) }
        // The run is recorded before its first step is called; delete it, then let the steps go.
        await gate.waitForWaiter()
        #expect(try await store.deleteRun(id: "doomed"))
        await gate.open()
        let result = await run.value
        #expect(result.status == .failed)
        #expect(result.error?.code == "STORE_ERROR")
        #expect(result.error?.message.contains("doomed") == true)
        try await store.close()
    }

    /// Grouped: a process killed with checkpoints still queued leaves a prefix of them in the
    /// file, with every checkpoint flushed before the kill. The child is
    /// `store-bench --write-then-die-grouped`.
    @Test func aKilledProcessLeavesAPrefixOfItsGroupedCheckpoints() async throws {
        let path = try temporaryDirectory() + "/killed-grouped.db"
        try runProbeThatDies("--write-then-die-grouped", path)
        let store = try await SQLiteRunStore(path: path)
        let steps = try await store.checkpoints(runID: "killed").map(\.stepID)
        #expect(steps.count >= 1_000)
        #expect(steps.count <= 2_000)
        #expect(steps == (0..<steps.count).map { "step-\($0)" })
        try await store.close()
    }
}

/// Holds callers until opened; tells when one is waiting.
private actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var arrivals: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        for arrival in arrivals { arrival.resume() }
        arrivals.removeAll()
        await withCheckedContinuation { waiters.append($0) }
    }

    func waitForWaiter() async {
        if !waiters.isEmpty { return }
        await withCheckedContinuation { arrivals.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }
}
