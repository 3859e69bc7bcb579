import Nodal
import NodalTestSupport
import Testing
@testable import NodalService

/// Interrupts answered through `POST /runs/{id}/resume`, and runs picked up after a restart.
@Suite struct PauseRecoveryServiceTests {
    static func asking() -> JSON {
        [
            "name": "ask",
            "steps": [
                ["id": "ask", "component": "/builtin/interrupt", "input": ["question": ["$input": "q"]]],
                ["id": "after", "component": "/test/echo", "input": ["answer": ["$step": "ask"]]],
            ],
            "output": ["$step": "after"],
        ]
    }

    @Test func aPausedRunIsAnsweredAndGoesOn() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(Self.asking())
        let reply = try await fixture.service.createRun(["flowId": .string(flowID), "input": [["q": "ok?"]], "wait": true])
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_PAUSED")
        #expect(reply["summary"]?["items"]?["paused"] == 1)
        #expect(reply["summary"]?["completedAt"] == nil)
        let item = try #require(reply["results"]?[0])
        #expect(item["status"] == "EXECUTION_STATUS_PAUSED")
        #expect(item["pause"] == ["key": "ask", "step": "ask", "value": ["question": "ok?"]])
        let runID = try #require(reply["summary"]?["runId"]?.stringValue)
        #expect(try await fixture.service.status(["runId": .string(runID)])["status"] == "paused")
        #expect(try await fixture.service.listRuns(RunQuery(status: "EXECUTION_STATUS_PAUSED"))["runs"]?.arrayValue?.count == 1)
        // A paused run may be answered, not deleted by mistake for a running one: it is refused
        // to answer a key it does not wait for.
        let wrong = await refusal { try await fixture.service.resumeRun(id: runID, ["values": ["nope": 1]]) }
        #expect(wrong?.field == "values.nope")
        #expect(await refusal { try await fixture.service.resumeRun(id: runID, [:]) }?.field == "values")
        #expect(await refusal { try await fixture.service.resumeRun(id: runID, ["value": 1, "values": ["ask": 1]]) }?.field == "value")
        #expect(await refusal { try await fixture.service.resumeRun(id: runID, ["value": 1, "itemIndex": 4]) }?.field == "itemIndex")
        let events = Task { try await fixture.events(runID, until: "run_completed") }
        let resumed = try await fixture.service.resumeRun(id: runID, ["value": "yes", "wait": true])
        #expect(resumed["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED")
        #expect(resumed["results"]?[0]?["output"] == ["answer": "yes"])
        let names = try await events.value.map(\.name)
        #expect(names.contains("run_paused"))
        #expect(names.last == "run_completed")
        let again = await refusal { try await fixture.service.resumeRun(id: runID, ["value": "no"]) }
        #expect(again?.status == 409)
        #expect(again?.code == "RUN_NOT_PAUSED")
    }

    @Test func aPausedRunCanBeDeletedAndSeveralItemsAnsweredAtOnce() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(Self.asking())
        let first = try await fixture.service.createRun(["flowId": .string(flowID), "input": [["q": "a"], ["q": "b"]], "wait": true])
        let runID = try #require(first["summary"]?["runId"]?.stringValue)
        #expect(first["summary"]?["items"]?["paused"] == 2)
        // One item first, then the other.
        let one = try await fixture.service.resumeRun(id: runID, ["values": ["ask": 1], "itemIndex": 1, "wait": true])
        #expect(one["summary"]?["status"] == "EXECUTION_STATUS_PAUSED")
        #expect(one["summary"]?["items"]?["completed"] == 1)
        let two = try await fixture.service.resumeRun(id: runID, ["values": ["ask": 0], "wait": true])
        #expect(two["results"]?.arrayValue?.map { $0["output"] } == [["answer": 0], ["answer": 1]])
        let other = try await fixture.service.createRun(["flowId": .string(flowID), "input": [["q": "c"]], "wait": true])
        let otherID = try #require(other["summary"]?["runId"]?.stringValue)
        #expect(try await fixture.service.deleteRun(id: otherID) == [:])
        #expect(await refusal { try await fixture.service.items(runID: otherID, order: nil) }?.code == "RUN_NOT_FOUND")
    }

    /// A service shut down while an item waits at a step: the item that ended keeps its result and
    /// is not run again; the other goes on in a new service on the same store from its checkpoint
    /// (its first step is not run again), in memory and in an SQLite file alike.
    @Test(arguments: ["memory", "sqlite"])
    func aRunLeftGoingAtShutdownEndsInTheNextService(store kind: String) async throws {
        let path = try temporaryDirectory() + "/runs.db"
        func open() async throws -> any RunStore {
            kind == "sqlite" ? try await SQLiteRunStore(path: path) : InMemoryRunStore()
        }
        let firstStore = try await open()
        let tally = Tally()
        let flow: JSON = [
            "name": "count-then-hold",
            "steps": [
                ["id": "count", "component": "/test/count", "input": ["key": ["$input": "key"]]],
                ["id": "hold", "component": "/test/hold", "input": ["hold": ["$input": "hold"], "after": ["$step": "count"]]],
            ],
            "output": ["$step": "hold"],
        ]
        let first = try ServiceFixture(limits: ServiceLimits(drainTimeout: .seconds(1)), store: firstStore, tally: tally)
        let flowID = try await first.store(flow)
        let runID = try await first.start(flowID, [["key": "done", "hold": false], ["key": "held", "hold": true]])
        await first.gate.waitUntilEntered(1)
        _ = try await first.events(runID, until: "item_completed")
        let stopping = Task { await first.service.shutdown() }
        // The drain waits its second on the service's clock (the held step never ends by
        // itself), then what is still running is cancelled.
        await first.clock.waitForSleepers(count: 1)
        first.clock.advance(by: .seconds(1))
        await stopping.value
        let left = try #require(try await (firstStore as! any ServiceRunStorage).serviceRun(id: runID))
        #expect(left.status == .running)

        let secondStore: any RunStore
        if kind == "sqlite" {
            try await firstStore.close()
            secondStore = try await open()
        } else {
            secondStore = firstStore
        }
        let second = try ServiceFixture(store: secondStore, gate: Gate(), tally: tally)
        second.gate.open()
        await second.service.recover()
        let reply = try await second.waitFor(runID)
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED")
        #expect(reply["summary"]?["items"]?["completed"] == 2)
        #expect(tally.count("done") == 1)
        #expect(tally.count("held") == 1)
        let items = try await second.service.items(runID: runID, order: nil)["results"]?.arrayValue
        #expect(items?.map { $0["output"]?["after"]?["key"] } == ["done", "held"])
        // The journal of this life is numbered past everything the last one used.
        let events = try await second.events(runID, until: "run_completed")
        #expect(events.first?.name == "run_created")
        #expect(events.first!.sequence > StoredRequest.journalEpoch)
        await second.service.shutdown()
        try await secondStore.close()
    }

    /// An item's `STEP_ID::FIELD` input is set on its run, and again when it is answered.
    @Test func stepInputsOfAnItemHoldAcrossItsPause() async throws {
        let fixture = try ServiceFixture()
        let flow: JSON = [
            "steps": [
                ["id": "ask", "component": "/builtin/interrupt", "input": ["question": "go?"]],
                ["id": "after", "component": "/test/echo", "input": ["answer": ["$step": "ask"], "note": "from the flow"]],
            ],
            "output": ["$step": "after"],
        ]
        let flowID = try await fixture.store(flow)
        let first = try await fixture.service.createRun(["flowId": .string(flowID), "input": [["after::note": "from the request"], [:]], "wait": true])
        let runID = try #require(first["summary"]?["runId"]?.stringValue)
        let done = try await fixture.service.resumeRun(id: runID, ["value": "yes", "wait": true])
        #expect(done["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED", "\(done)")
        #expect(done["results"]?.arrayValue?.map { $0["output"] } == [
            ["answer": "yes", "note": "from the request"], ["answer": "yes", "note": "from the flow"],
        ])
    }

    @Test func aPausedRunIsPausedAgainAfterARestart() async throws {
        let store = InMemoryRunStore()
        let first = try ServiceFixture(store: store)
        let flowID = try await first.store(Self.asking())
        let reply = try await first.service.createRun(["flowId": .string(flowID), "input": [["q": "ok?"]], "wait": true])
        let runID = try #require(reply["summary"]?["runId"]?.stringValue)
        await first.service.shutdown()
        let second = try ServiceFixture(store: store)
        await second.service.recover()
        let read = try await second.service.run(id: runID, wait: false, timeout: nil)
        #expect(read["summary"]?["status"] == "EXECUTION_STATUS_PAUSED")
        #expect(try await second.service.items(runID: runID, order: nil)["results"]?[0]?["pause"]?["key"] == "ask")
    }
}
