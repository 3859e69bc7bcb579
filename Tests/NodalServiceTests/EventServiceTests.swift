import Nodal
import NodalTestSupport
import Testing
@testable import NodalService

/// `GET /runs/{id}/events`: the journal, a reconnect after an id, filters, and the journal of a
/// run read back from the store.
@Suite struct EventServiceTests {
    static func twoSteps() -> JSON {
        [
            "name": "two",
            "steps": [
                ["id": "a", "component": "/test/echo", "input": ["$input": "$"]],
                ["id": "b", "component": "/test/echo", "input": ["$step": "a"]],
            ],
            "output": ["$step": "b"],
        ]
    }

    @Test func theJournalTellsTheRunAndAReconnectGoesOnAfterTheLastID() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(Self.twoSteps())
        let reply = try await fixture.service.createRun(["flowId": .string(flowID), "input": [["x": 1]], "wait": true])
        let runID = try #require(reply["summary"]?["runId"]?.stringValue)
        var all: [ServiceEvent] = []
        for await event in try await fixture.service.events(runID: runID, EventSubscription(includeResults: true)) { all.append(event) }
        #expect(all.map(\.name) == ["run_created", "step_started", "step_completed", "step_started", "step_completed", "item_completed", "run_completed"])
        #expect(all.map(\.sequence) == Array(1...7))
        #expect(all[0].data["runCreated"] == ["runId": .string(runID), "flowId": .string(flowID), "itemCount": 1])
        #expect(all[0].data["sequenceNumber"] == "1")
        #expect(all[1].data["stepStarted"] == ["runId": .string(runID), "itemIndex": 0, "stepIndex": 0, "stepId": "a", "attempt": 1])
        #expect(all[4].data["stepCompleted"]?["status"] == "EXECUTION_STATUS_COMPLETED")
        #expect(all[4].data["stepCompleted"]?["result"] == ["outcome": "success", "result": ["x": 1]])
        #expect(all[5].data["itemCompleted"]?["result"] == ["outcome": "success", "result": ["x": 1]])
        #expect(all[6].data["runCompleted"] == ["runId": .string(runID), "status": "EXECUTION_STATUS_COMPLETED"])
        // A reconnect after the third event gets the rest; without results, none carries one.
        var rest: [ServiceEvent] = []
        for await event in try await fixture.service.events(runID: runID, EventSubscription(after: 3)) { rest.append(event) }
        #expect(rest.map(\.sequence) == [4, 5, 6, 7])
        #expect(rest.allSatisfy { event in event.data.objectValue!.allSatisfy { $0.value["result"] == nil } })
        // Only the types asked for.
        var completions: [String] = []
        let types: Set<String> = ["STATUS_EVENT_TYPE_ITEM_COMPLETED", "STATUS_EVENT_TYPE_RUN_COMPLETED"]
        for await event in try await fixture.service.events(runID: runID, EventSubscription(types: types)) { completions.append(event.name) }
        #expect(completions == ["item_completed", "run_completed"])
        #expect(await refusal {
            _ = try await fixture.service.events(runID: runID, EventSubscription(types: ["STATUS_EVENT_TYPE_NONSENSE"]))
            return .null
        }?.field == "eventTypes")
    }

    @Test func liveEventsArriveWhileTheRunGoes() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/hold"))
        let runID = try await fixture.start(flowID, [["hold": true]])
        let stream = try await fixture.service.events(runID: runID, EventSubscription())
        var names: [String] = []
        for await event in stream {
            names.append(event.name)
            if event.name == "step_started" { fixture.gate.open() }
        }
        #expect(names == ["run_created", "step_started", "step_completed", "item_completed", "run_completed"])
    }

    @Test func aRunReadBackFromTheStoreHasTheSameLastNumberEveryTime() async throws {
        // No ended run is kept in memory: every read after the end goes to the store.
        let fixture = try ServiceFixture(limits: ServiceLimits(finishedRunsKept: 0))
        let flowID = try await fixture.store(Self.twoSteps())
        let runID = try await fixture.start(flowID, [["x": 1], ["x": 2]])
        let live = try await fixture.events(runID, until: "run_completed")
        let last = try #require(live.last)
        #expect(fixture.service.liveRun(runID) == nil)
        var rebuilt: [ServiceEvent] = []
        for await event in try await fixture.service.events(runID: runID, EventSubscription()) { rebuilt.append(event) }
        #expect(rebuilt.first?.name == "run_created")
        #expect(rebuilt.filter { $0.name == "step_completed" }.count == 4)
        #expect(rebuilt.filter { $0.name == "item_completed" }.count == 2)
        #expect(rebuilt.last?.name == "run_completed")
        #expect(rebuilt.last?.sequence == last.sequence)
        #expect(rebuilt.map(\.sequence) == Array(rebuilt.first!.sequence...last.sequence))
        // A client that saw the live journal's end gets nothing more.
        var after: [ServiceEvent] = []
        for await event in try await fixture.service.events(runID: runID, EventSubscription(after: last.sequence)) { after.append(event) }
        #expect(after.isEmpty)
        // And the run itself reads back the same.
        let read = try await fixture.service.run(id: runID, wait: false, timeout: nil)
        #expect(read["summary"]?["items"]?["completed"] == 2)
        #expect(read["steps"]?.arrayValue?.count == 4)
    }
}
