import Foundation
import Nodal
@testable import NodalPostgres
import NodalTestSupport
import Testing
@testable import NodalService

/// One process of a scale-out, in this test process: its own engine (so its own lease owner), its
/// own connection pool to the shared database, a run service that queues runs, and a worker when
/// asked for one.
final class QueueNode: Sendable {
    let engine: Engine
    let store: PostgresRunStore
    let service: RunService
    let worker: RunWorker?
    private let running: Task<Void, Never>?

    init(url: String, gate: Gate, tally: Tally, worker options: RunWorker.Options? = nil) async throws {
        engine = ServiceFixture.engine(gate: gate, tally: tally)
        store = try await PostgresRunStore(url: url)
        service = try RunService(engine: engine, store: store, execution: .queued)
        if let options {
            let worker = try RunWorker(service: service, options: options)
            self.worker = worker
            running = Task { try? await worker.run() }
        } else {
            worker = nil
            running = nil
        }
    }

    /// Drains the worker, shuts the service down and closes the store.
    func stop() async {
        worker?.stop()
        await running?.value
        await service.shutdown()
        try? await store.close()
        await engine.shutdown()
    }

    func storeFlow(_ flow: JSON) async throws -> String {
        try #require(try await service.storeFlow(["flow": flow])["flowId"]?.stringValue)
    }

    func start(_ flowID: String, _ items: [JSON]) async throws -> String {
        let reply = try await service.createRun(["flowId": .string(flowID), "input": .array(items)])
        return try #require(reply["summary"]?["runId"]?.stringValue)
    }

    /// `GET /runs/{id}?wait=true`, waited for until the run is no longer running.
    func waitFor(_ runID: String) async throws -> JSON {
        var reply: JSON = .null
        for _ in 0..<20 {
            reply = try await service.run(id: runID, wait: true, timeout: .seconds(30))
            guard reply["summary"]?["status"] == "EXECUTION_STATUS_RUNNING" else { break }
        }
        return reply
    }
}

@Suite("Work queue on PostgreSQL", .timeLimit(.minutes(3))) struct WorkQueueTests {
    static let fast = RunWorker.Options(concurrency: 3, lease: .seconds(2), pollInterval: .milliseconds(200))

    static func database() throws -> String { try PostgresTestServer.freshDatabase(prefix: "nodal_queue") }

    /// Every connection of every process to the test's database, the listeners' too.
    static func dropConnections(_ url: String) throws {
        try PostgresTestServer.psql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            database: PostgresTestServer.databaseName(of: url))
    }

    /// A new database, a server node and one worker node (`fast`) sharing a gate and a tally.
    static func serverAndWorker() async throws -> (url: String, gate: Gate, tally: Tally, server: QueueNode, worker: QueueNode) {
        let url = try database()
        let gate = Gate()
        let tally = Tally()
        let server = try await QueueNode(url: url, gate: gate, tally: tally)
        return (url, gate, tally, server, try await QueueNode(url: url, gate: gate, tally: tally, worker: fast))
    }

    static func run(_ node: QueueNode, _ items: [JSON], flow: JSON) async throws -> String {
        try await node.start(try await node.storeFlow(flow), items)
    }

    @Test func threeWorkersRunEveryItemOfEveryRunExactlyOnce() async throws {
        let url = try Self.database()
        let gate = Gate()
        let tally = Tally()
        let server = try await QueueNode(url: url, gate: gate, tally: tally)
        var workers: [QueueNode] = []
        for _ in 0..<3 { workers.append(try await QueueNode(url: url, gate: gate, tally: tally, worker: Self.fast)) }
        let flowID = try await server.storeFlow(ServiceFixture.flow("/test/count"))
        let runs = 8
        let items = 25
        var runIDs: [String] = []
        for run in 0..<runs {
            runIDs.append(try await server.start(flowID, (0..<items).map { ["key": .string("r\(run)-\($0)")] }))
        }
        for runID in runIDs {
            let reply = try await server.waitFor(runID)
            #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED", "\(reply)")
            #expect(reply["summary"]?["items"]?["completed"] == .int(items), "\(reply)")
        }
        for run in 0..<runs {
            for item in 0..<items { #expect(tally.count("r\(run)-\(item)") == 1, "r\(run)-\(item) ran \(tally.count("r\(run)-\(item)")) times") }
        }
        let counted = try await server.store.rawQuery("SELECT sum(succeeded)::text AS n FROM service_runs")
        #expect(counted == [["n": String(runs * items)]])
        // Health lists the three workers; each leaves the list when it stops.
        #expect(await server.service.health()["workers"]?.arrayValue?.count == 3)
        for worker in workers { await worker.stop() }
        #expect(await server.service.health()["workers"]?.arrayValue?.count == 0)
        await server.stop()
    }

    @Test func cancellingAQueuedRunReachesTheWorkerRunningIt() async throws {
        let url = try Self.database()
        let gate = Gate()
        let server = try await QueueNode(url: url, gate: gate, tally: Tally())
        let worker = try await QueueNode(
            url: url, gate: gate, tally: Tally(), worker: RunWorker.Options(concurrency: 1, lease: .seconds(2), pollInterval: .milliseconds(200)))
        let runID = try await Self.run(server, [["hold": true], ["hold": true]], flow: ServiceFixture.flow("/test/hold"))
        await gate.waitUntilEntered(1)
        let canceled = try await server.service.cancelRun(id: runID)
        #expect(canceled["summary"]?["status"] == "EXECUTION_STATUS_CANCELLED", "\(canceled)")
        let reply = try await server.waitFor(runID)
        #expect(reply["summary"]?["items"]?["cancelled"] == 2, "\(reply)")
        #expect(worker.worker?.itemsRunning == 0)
        // The held step was let out by its cancellation, not by the gate.
        let states = try await server.store.rawQuery("SELECT state FROM work_items ORDER BY item_index")
        #expect(states == [["state": "done"], ["state": "done"]])
        await worker.stop()
        await server.stop()
    }

    @Test func aPausedQueuedRunResumesOnAWorker() async throws {
        let url = try Self.database()
        let gate = Gate()
        let server = try await QueueNode(url: url, gate: gate, tally: Tally())
        let worker = try await QueueNode(url: url, gate: gate, tally: Tally(), worker: Self.fast)
        let flow: JSON = [
            "name": "ask",
            "steps": [["id": "ask", "component": "/builtin/interrupt", "input": ["question": ["$input": "q"]]]],
            "output": ["answer": ["$step": "ask"]],
        ]
        let runID = try await Self.run(server, [["q": "go?"]], flow: flow)
        let paused = try await server.waitFor(runID)
        #expect(paused["summary"]?["status"] == "EXECUTION_STATUS_PAUSED", "\(paused)")
        let resumed = try await server.service.resumeRun(id: runID, ["value": "yes", "wait": true])
        #expect(resumed["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED", "\(resumed)")
        #expect(resumed["results"]?[0]?["output"]?["answer"] == "yes", "\(resumed)")
        // A second answer finds nothing waiting.
        let again = await refusal { try await server.service.resumeRun(id: runID, ["value": "no"]) }
        #expect(again?.code == "RUN_NOT_PAUSED")
        await worker.stop()
        await server.stop()
    }

    @Test func workersCarryOnWhenTheDatabaseDropsTheirConnections() async throws {
        let (url, gate, tally, server, worker) = try await Self.serverAndWorker()
        let flow: JSON = [
            "name": "hold-then-count",
            "steps": [
                ["id": "hold", "component": "/test/hold", "input": ["hold": true]],
                ["id": "count", "component": "/test/count", "input": ["key": ["$input": "key"], "after": ["$step": "hold"]]],
            ],
            "output": ["$step": "count"],
        ]
        let runID = try await Self.run(server, (0..<3).map { ["key": .string("k\($0)")] }, flow: flow)
        await gate.waitUntilEntered(3)
        try Self.dropConnections(url)
        gate.open()
        let reply = try await server.waitFor(runID)
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED", "\(reply)")
        for item in 0..<3 { #expect(tally.count("k\(item)") == 1) }
        await worker.stop()
        await server.stop()
    }

    // MARK: Found by the hostile review

    @Test func connectionsDroppedAgainAndAgainLoseNoItem() async throws {
        let (url, _, tally, server, worker) = try await Self.serverAndWorker()
        let flow: JSON = [
            "name": "count-sleep-count",
            "steps": [
                ["id": "first", "component": "/test/count", "input": ["key": ["$input": "key"]]],
                ["id": "pause", "component": "/builtin/sleep", "input": ["duration_ms": 30, "passthrough": ["$step": "first"]]],
                ["id": "second", "component": "/test/count", "input": ["key": "second", "after": ["$step": "pause"]]],
            ],
            "output": ["$step": "second"],
        ]
        let items = 40
        let runID = try await Self.run(server, (0..<items).map { ["key": .string("k\($0)")] }, flow: flow)
        // Every connection to the database, again and again while the items run.
        for _ in 0..<8 {
            try Self.dropConnections(url)
            try await Task.sleep(for: .milliseconds(150))
        }
        let reply = try await server.waitFor(runID)
        // Nothing failed for want of a connection: every item succeeded, each counted once.
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED", "\(reply)")
        #expect(reply["summary"]?["items"]?["completed"] == .int(items), "\(reply)")
        #expect(try await server.store.serviceRun(id: runID)?.counts == ServiceRunCounts(succeeded: items))
        for item in 0..<items { #expect(tally.count("k\(item)") >= 1) }
        // And nothing stays held: the worker holds no item it does not run.
        let held = try await server.store.rawQuery("SELECT count(*)::text AS n FROM work_items WHERE state <> 'done'")
        #expect(held == [["n": "0"]])
        await worker.stop()
        await server.stop()
    }

    @Test func anItemThatKeepsTakingWorkersDownIsFailedNotRunAgain() async throws {
        let url = try Self.database()
        let gate = Gate()
        let tally = Tally()
        let server = try await QueueNode(url: url, gate: gate, tally: tally)
        let runID = try await Self.run(server, [["key": "poison"]], flow: ServiceFixture.flow("/test/count"))
        // As if four workers in turn had claimed it and died.
        try await server.store.rawQuery("UPDATE work_items SET attempts = 4")
        let worker = try await QueueNode(url: url, gate: gate, tally: tally, worker: Self.fast)
        let reply = try await server.waitFor(runID)
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_FAILED", "\(reply)")
        #expect(reply["summary"]?["items"]?["failed"] == 1, "\(reply)")
        let items = try await server.service.items(runID: runID, order: nil)
        #expect(items["results"]?[0]?["error"]?["nodalCode"] == "ITEM_ATTEMPTS_EXHAUSTED" || "\(items)".contains("ITEM_ATTEMPTS_EXHAUSTED"), "\(items)")
        #expect(tally.count("poison") == 0)
        await worker.stop()
        await server.stop()
    }

    @Test func anItemAWorkerCannotRunFailsWithTheReasonRecorded() async throws {
        let url = try Self.database()
        let server = try await QueueNode(url: url, gate: Gate(), tally: Tally())
        let runID = try await Self.run(server, [["x": 1]], flow: ServiceFixture.flow("/test/echo"))
        // A worker whose engine has no /test/echo.
        let store = try await PostgresRunStore(url: url)
        let bare = try RunService(engine: Engine(), store: store, execution: .queued)
        let worker = try RunWorker(service: bare, options: Self.fast)
        let running = Task { try? await worker.run() }
        let reply = try await server.waitFor(runID)
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_FAILED", "\(reply)")
        #expect(reply["summary"]?["items"]?["failed"] == 1 && reply["summary"]?["items"]?["cancelled"] == 0, "\(reply)")
        let items = "\(try await server.service.items(runID: runID, order: nil))"
        #expect(items.contains("/test/echo") && !items.contains("before this item started"), "\(items)")
        worker.stop()
        await running.value
        await bare.shutdown()
        try await store.close()
        await server.stop()
    }

    @Test func cancellingARunWhoseWorkerIsGoneEndsItAtOnce() async throws {
        let url = try Self.database()
        let server = try await QueueNode(url: url, gate: Gate(), tally: Tally())
        let runID = try await Self.run(server, [["x": 1]], flow: ServiceFixture.flow("/test/echo"))
        // Claimed by a worker that then died: its lease is over, and no worker is left.
        let past = Date().addingTimeInterval(-60)
        _ = try await server.store.claimWork(worker: "gone", limit: 1, now: past, leaseUntil: past.addingTimeInterval(1))
        let canceled = try await server.service.cancelRun(id: runID)
        #expect(canceled["summary"]?["status"] == "EXECUTION_STATUS_CANCELLED", "\(canceled)")
        await server.stop()
    }

    @Test func cancellingAThousandsOfItemsRunWhileItRunsIsOneQuickTransaction() async throws {
        let url = try Self.database()
        let gate = Gate()
        let server = try await QueueNode(url: url, gate: gate, tally: Tally())
        let worker = try await QueueNode(url: url, gate: gate, tally: Tally(), worker: Self.fast)
        let items = 5000
        let runID = try await Self.run(server, Array(repeating: ["hold": true], count: items), flow: ServiceFixture.flow("/test/hold"))
        await gate.waitUntilEntered(3)
        let canceled = try await server.service.cancelRun(id: runID)
        #expect(canceled["summary"]?["status"] == "EXECUTION_STATUS_CANCELLED", "\(canceled)")
        #expect(try await server.store.serviceRun(id: runID)?.counts.canceled == items)
        await worker.stop()
        await server.stop()
    }

    @Test func aServiceWithoutAQueueStoreRefusesQueuedExecution() throws {
        let refused = #expect(throws: ServiceError.self) {
            try RunService(engine: Engine(), store: InMemoryRunStore(), execution: .queued)
        }
        #expect(refused?.code == "STORE_UNSUPPORTED")
        let service = try RunService(engine: Engine(), store: InMemoryRunStore())
        #expect(throws: ServiceError.self) { try RunWorker(service: service) }
    }
}

/// The queue's own rules, on the store: claims never overlap, expired items change hands, ends are
/// counted once.
@Suite("Work queue store", .timeLimit(.minutes(2))) struct WorkQueueStoreTests {
    static func queuedRun(_ store: PostgresRunStore, items: Int, id: String = UUID().uuidString.lowercased()) async throws -> String {
        let record = ServiceRunRecord(
            id: id, flowID: String(repeating: "a", count: 64), flowName: "f", status: .running, request: ["items": []], itemCount: items,
            createdAt: Date().roundedForStore)
        try await store.putQueuedServiceRun(record, queuedAt: Date())
        return id
    }

    @Test func concurrentClaimersNeverGetTheSameItem() async throws {
        let store = try await PostgresRunStore(url: try WorkQueueTests.database())
        let items = 300
        let runID = try await Self.queuedRun(store, items: items)
        let claimed = try await withThrowingTaskGroup(of: [WorkItemKey].self) { group in
            for worker in 0..<12 {
                group.addTask {
                    var mine: [WorkItemKey] = []
                    while true {
                        let now = Date()
                        let claims = try await store.claimWork(worker: "w\(worker)", limit: 4, now: now, leaseUntil: now.addingTimeInterval(60))
                        if claims.isEmpty { return mine }
                        mine += claims.map(\.item)
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claimed.count == items)
        #expect(Set(claimed) == Set((0..<items).map { WorkItemKey(runID: runID, index: $0) }))
        try await store.close()
    }

    @Test func anExpiredItemChangesHandsAndOnlyItsNewHolderEndsIt() async throws {
        let store = try await PostgresRunStore(url: try WorkQueueTests.database())
        let runID = try await Self.queuedRun(store, items: 1)
        let start = Date()
        let first = try await store.claimWork(worker: "a", limit: 5, now: start, leaseUntil: start.addingTimeInterval(10))
        #expect(first.map(\.attempt) == [1])
        // Within the lease nobody else gets it; past it, the next claimer does.
        #expect(try await store.claimWork(worker: "b", limit: 5, now: start.addingTimeInterval(5), leaseUntil: start.addingTimeInterval(15)).isEmpty)
        let second = try await store.claimWork(worker: "b", limit: 5, now: start.addingTimeInterval(11), leaseUntil: start.addingTimeInterval(21))
        #expect(second.map(\.attempt) == [2])
        let item = WorkItemKey(runID: runID, index: 0)
        // The old holder's renewal no longer lists it, and its end is refused.
        let renewal = try await store.renewWork(
            WorkerRecord(id: "a", host: "h", pid: 1, startedAt: start, heartbeatAt: start, concurrency: 1), leaseUntil: start.addingTimeInterval(30))
        #expect(renewal.held.isEmpty)
        #expect(try await store.finishWork(item, worker: "a", status: .success, now: start) == .notHeld)
        #expect(try await store.finishWork(item, worker: "b", status: .success, now: start) == .recorded(settled: .success))
        // Ending it again (a retry after a lost reply) counts nothing twice.
        #expect(try await store.finishWork(item, worker: "b", status: .success, now: start) == .notHeld)
        #expect(try await store.serviceRun(id: runID)?.counts.succeeded == 1)
        #expect(try await store.serviceRun(id: runID)?.status == .success)
        try await store.close()
    }

    @Test func cancellingEndsWhatNobodyRunsAndMarksWhatRuns() async throws {
        let store = try await PostgresRunStore(url: try WorkQueueTests.database())
        let runID = try await Self.queuedRun(store, items: 3)
        let now = Date()
        let claimed = try await store.claimWork(worker: "a", limit: 1, now: now, leaseUntil: now.addingTimeInterval(60))
        #expect(try await store.cancelQueuedRun(id: runID, now: now))
        // Two never ran: cancelled now. The running one is marked; the run settles once it ends.
        #expect(try await store.serviceRun(id: runID)?.counts.canceled == 2)
        #expect(try await store.serviceRun(id: runID)?.status == .running)
        let renewal = try await store.renewWork(
            WorkerRecord(id: "a", host: "h", pid: 1, startedAt: now, heartbeatAt: now, concurrency: 1), leaseUntil: now.addingTimeInterval(60))
        #expect(renewal.canceled == Set(claimed.map(\.item)))
        #expect(try await store.finishWork(claimed[0].item, worker: "a", status: .canceled, now: now) == .recorded(settled: .canceled))
        #expect(try await store.cancelQueuedRun(id: runID, now: now) == false)
        try await store.close()
    }
}
