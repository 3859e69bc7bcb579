import Foundation
import NodalTestSupport
import Testing

/// `nodal serve --store postgres://...` and `nodal worker` processes sharing one database, end to
/// end: a worker killed with SIGKILL mid-item, a worker drained with SIGTERM, a server restarted
/// with queued items. Steps are the tick plugin's (`OwnershipCLITests`): each appends its name to
/// its item's log file, so a step that ran twice shows twice.
@Suite(.timeLimit(.minutes(3))) struct WorkerCLITests {
    /// A database of its own, the tick plugin, and a flow of `steps` ticks stored on a server.
    struct Setup {
        let directory: String
        let url: String
        let plugin: String

        init() throws {
            directory = try temporaryDirectory()
            url = try PostgresTestServer.freshDatabase(prefix: "nodal_workers")
            plugin = try buildCPlugin(OwnershipCLITests.tickPlugin, name: "tick", in: directory)
        }

        func serve(_ extra: [String] = []) throws -> (ServerProcess, String) {
            let server = try ServerProcess(["serve", "--store", url, "--port", "0", "--plugin-path", plugin] + extra)
            return (server, try ServeCLITests.url(server))
        }

        /// A worker with a short lease, so a dead one's items are taken over soon; its id.
        func worker(concurrency: Int = 2) throws -> (ServerProcess, String) {
            let worker = try ServerProcess([
                "worker", "--store", url, "--plugin-path", plugin, "--concurrency", String(concurrency), "--lease-secs", "1",
                "--poll-secs", "0.2",
            ])
            let line = try worker.waitForLine(containing: "claiming from")
            let id = try #require(line.wholeMatch(of: /nodal worker: ([0-9a-f-]+) claiming from .*/)?.1)
            return (worker, String(id))
        }

        /// Stores a chain of `steps` ticks, each item logging to its `log` input; the flow's id.
        func storeChain(_ steps: Int, on base: String) throws -> String {
            var list: [String] = []
            for index in 1...steps {
                let after = index == 1 ? #""start": true"# : #""after": {"$step": "s\#(index - 1)", "path": "step"}"#
                list.append(#"{"id": "s\#(index)", "component": "/tick/tick", "input": {"log": {"$input": "log"}, "step": "s\#(index)", \#(after)}}"#)
            }
            let flow = #"{"flow": {"name": "ticks", "steps": [\#(list.joined(separator: ","))], "output": {"$step": "s\#(steps)"}}}"#
            let stored = try ServeCLITests.post(base + "/flows", flow)
            return try #require(stored["flowId"] as? String, "\(stored)")
        }

        func log(_ item: Int) -> String { directory + "/item\(item).log" }

        func logged(_ item: Int) -> [String] {
            ((try? String(contentsOfFile: log(item), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        /// Starts a run of `flowID` with one item per log; its id.
        func start(_ flowID: String, items: Int, on base: String) throws -> String {
            let inputs = (0..<items).map { #"{"log": "\#(log($0))"}"# }.joined(separator: ",")
            let created = try ServeCLITests.post(base + "/runs", #"{"flowId": "\#(flowID)", "input": [\#(inputs)]}"#)
            return try #require((created["summary"] as? [String: Any])?["runId"] as? String, "\(created)")
        }

        func waitForEnd(_ runID: String, on base: String) throws -> [String: Any] {
            var reply: [String: Any] = [:]
            for _ in 0..<10 {
                reply = try ServeCLITests.get(base + "/runs/\(runID)?wait=true&timeoutSecs=30")
                guard (reply["summary"] as? [String: Any])?["status"] as? String == "EXECUTION_STATUS_RUNNING" else { break }
            }
            return reply
        }

        func sql(_ query: String) throws -> String {
            try PostgresTestServer.psql(query, database: PostgresTestServer.databaseName(of: url))
        }
    }

    @Test func aWorkerKilledMidItemLosesNothingAndRepeatsOnlyTheStepInFlight() throws {
        let setup = try Setup()
        let (server, base) = try setup.serve()
        let (doomed, doomedID) = try setup.worker(concurrency: 2)
        let (survivor, _) = try setup.worker(concurrency: 1)
        let steps = 8
        let flowID = try setup.storeChain(steps, on: base)
        let items = 3
        let runID = try setup.start(flowID, items: items, on: base)

        // Kill the first worker once an item it holds is a few steps in.
        var held: [Int] = []
        for _ in 0..<2000 {
            held = try setup.sql("SELECT item_index FROM work_items WHERE worker_id = '\(doomedID)' AND state = 'running'")
                .split(separator: "\n").compactMap { Int($0) }
            if held.contains(where: { setup.logged($0).count >= 2 }) { break }
            usleep(10_000)
        }
        #expect(held.contains { setup.logged($0).count >= 2 }, "the first worker never got two steps into an item")
        _ = doomed.stop(signal: SIGKILL)
        // What the dead worker's items had logged when it died (it can have written nothing since).
        let beforeKill = Dictionary(uniqueKeysWithValues: held.map { ($0, setup.logged($0)) })

        let reply = try setup.waitForEnd(runID, on: base)
        let summary = try #require(reply["summary"] as? [String: Any], "\(reply)")
        #expect(summary["status"] as? String == "EXECUTION_STATUS_COMPLETED", "\(reply)")
        #expect((summary["items"] as? [String: Any])?["completed"] as? Int == items, "\(summary)")
        for item in 0..<items {
            let counts = Dictionary(setup.logged(item).map { ($0, 1) }, uniquingKeysWith: +)
            for step in 1...steps { #expect(counts["s\(step)"] != nil, "item \(item): s\(step) never ran") }
            let repeated = counts.filter { $0.value > 1 }.map(\.key)
            if let logged = beforeKill[item] {
                // Checkpointed steps ran once; the one in flight at the kill may have run twice.
                #expect(repeated.count <= 1 && repeated.allSatisfy { $0 == logged.last }, "item \(item) ran again: \(repeated) (\(logged))")
            } else {
                #expect(repeated.isEmpty, "item \(item) ran steps twice: \(repeated)")
            }
        }
        // The dead worker's items were taken over (two attempts), and every end recorded once.
        for item in held {
            #expect(try setup.sql("SELECT attempts FROM work_items WHERE item_index = \(item)").trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        }
        #expect(try setup.sql("SELECT succeeded FROM service_runs WHERE id = '\(runID)'").trimmingCharacters(in: .whitespacesAndNewlines) == "\(items)")
        #expect(survivor.stop(signal: SIGTERM) == 0, "\(survivor.standardError)")
        #expect(server.stop(signal: SIGTERM) == 0, "\(server.standardError)")
    }

    @Test func aDrainedWorkerGivesItsItemBackAndExitsZero() throws {
        let setup = try Setup()
        let (server, base) = try setup.serve()
        let (first, _) = try setup.worker(concurrency: 1)
        let steps = 6
        let runID = try setup.start(try setup.storeChain(steps, on: base), items: 1, on: base)
        for _ in 0..<6000 where setup.logged(0).count < 2 { usleep(10_000) }
        #expect(first.stop(signal: SIGTERM) == 0, "\(first.standardError)")
        // It let its step in flight finish, started no other, and gave the item back.
        let afterDrain = setup.logged(0)
        #expect(afterDrain.count < steps, "\(afterDrain)")
        #expect(try setup.sql("SELECT state FROM work_items").trimmingCharacters(in: .whitespacesAndNewlines) == "queued")
        #expect(try setup.sql("SELECT count(*) FROM workers").trimmingCharacters(in: .whitespacesAndNewlines) == "0")

        let (second, _) = try setup.worker(concurrency: 1)
        let reply = try setup.waitForEnd(runID, on: base)
        #expect((reply["summary"] as? [String: Any])?["status"] as? String == "EXECUTION_STATUS_COMPLETED", "\(reply)")
        // Nothing ran twice: the drain checkpointed every step that ran.
        #expect(setup.logged(0) == (1...steps).map { "s\($0)" }, "\(setup.logged(0))")
        #expect(second.stop(signal: SIGTERM) == 0)
        #expect(server.stop(signal: SIGTERM) == 0)
    }

    @Test func queuedItemsOutliveTheServerThatQueuedThem() throws {
        let setup = try Setup()
        let (first, base) = try setup.serve()
        let flowID = try setup.storeChain(2, on: base)
        let runID = try setup.start(flowID, items: 4, on: base)
        #expect(first.stop(signal: SIGTERM) == 0, "\(first.standardError)")
        #expect(try setup.sql("SELECT count(*) FROM work_items WHERE state = 'queued'").trimmingCharacters(in: .whitespacesAndNewlines) == "4")

        // A new server that runs items itself (--workers), and a wait on the run it did not start.
        let (second, again) = try setup.serve(["--workers", "2"])
        let reply = try setup.waitForEnd(runID, on: again)
        #expect((reply["summary"] as? [String: Any])?["status"] as? String == "EXECUTION_STATUS_COMPLETED", "\(reply)")
        for item in 0..<4 { #expect(setup.logged(item) == ["s1", "s2"]) }
        let health = try ServeCLITests.get(again + "/health")
        #expect((health["workers"] as? [[String: Any]])?.count == 1, "\(health)")
        #expect(second.stop(signal: SIGTERM) == 0, "\(second.standardError)")
    }

    @Test func workersNeedAPostgresStore() throws {
        let directory = try temporaryDirectory()
        for store in [directory + "/runs.db", "sqlite::memory:", "inMemory"] {
            let result = try runProcess(Products.nodal, ["worker", "--store", store])
            #expect(result.status == 64, "\(store): \(result.stderr)")
            #expect(result.stderr.contains("PostgreSQL"), "\(result.stderr)")
        }
        let serve = try runProcess(Products.nodal, ["serve", "--store", directory + "/runs.db", "--workers", "2", "--port", "0"])
        #expect(serve.status == 64 && serve.stderr.contains("--workers needs a PostgreSQL store"), "\(serve.stderr)")
        for (option, value) in [("--concurrency", "0"), ("--lease-secs", "0.5"), ("--poll-secs", "nan"), ("--concurrency", "99999")] {
            let result = try runProcess(Products.nodal, ["worker", "--store", "postgres://nobody@127.0.0.1:1/none", option, value])
            #expect(result.status == 64 && result.stderr.contains(option), "\(option) \(value): \(result.stderr)")
        }
    }
}
