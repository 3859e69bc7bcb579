import Nodal
import NodalTestSupport
import Testing
@testable import NodalService

/// `POST /runs` and the routes that read, list, cancel and delete runs.
@Suite struct RunServiceTests {
    @Test func threeItemsRunAndTheWaitReturnsTheirResults() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/echo", name: "echo"))
        let reply = try await fixture.service.createRun([
            "flowId": .string(flowID), "input": [["n": 0], ["n": 1], ["n": 2]], "wait": true,
        ])
        let summary = try #require(reply["summary"])
        #expect(summary["status"] == "EXECUTION_STATUS_COMPLETED")
        #expect(summary["flowName"] == "echo")
        #expect(summary["flowId"] == .string(flowID))
        #expect(summary["items"] == ["total": 3, "completed": 3, "running": 0, "failed": 0, "cancelled": 0, "paused": 0])
        #expect(summary["rootRunId"] == summary["runId"])
        #expect(summary["parentRunId"] == nil)
        #expect(summary["completedAt"]?.stringValue != nil)
        let results = try #require(reply["results"]?.arrayValue)
        #expect(results.map { $0["itemIndex"] } == [0, 1, 2])
        #expect(results.map { $0["output"] } == [["n": 0], ["n": 1], ["n": 2]])
        #expect(results.allSatisfy { $0["status"] == "EXECUTION_STATUS_COMPLETED" && $0["executionTimeMs"]?.doubleValue != nil })
        // Read again: the same run, with each item's steps.
        let runID = try #require(summary["runId"]?.stringValue)
        let read = try await fixture.service.run(id: runID, wait: false, timeout: nil)
        #expect(read["summary"] == summary)
        let steps = try #require(read["steps"]?.arrayValue)
        #expect(steps.count == 3)
        #expect(steps[1] == [
            "stepId": "s", "stepIndex": 0, "itemIndex": 1, "status": "EXECUTION_STATUS_COMPLETED", "component": "/test/echo",
            "output": ["n": 1], "startedAt": steps[1]["startedAt"]!, "completedAt": steps[1]["completedAt"]!,
        ])
        #expect(try await fixture.service.runFlow(runID: runID)["flow"] == ServiceFixture.flow("/test/echo", name: "echo"))
        let step = try await fixture.service.step(runID: runID, stepID: "s", itemIndex: 2)
        #expect(step["step"]?["output"] == ["n": 2])
        #expect(await refusal { try await fixture.service.step(runID: runID, stepID: "s", itemIndex: nil) }?.field == "itemIndex")
        #expect(await refusal { try await fixture.service.step(runID: runID, stepID: "nope", itemIndex: 0) }?.code == "STEP_NOT_FOUND")
        // Past the last item: no item's steps, as Stepflow answers; below 0 is a mistake.
        #expect(try await fixture.service.steps(runID: runID, itemIndex: 3)["steps"] == [])
        #expect(await refusal { try await fixture.service.steps(runID: runID, itemIndex: -1) }?.field == "itemIndex")
    }

    @Test func resultsComeByIndexOrByCompletion() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/hold"))
        let runID = try await fixture.start(flowID, [["hold": true], ["n": 1], ["n": 2]], extra: ["maxConcurrency": 3])
        // Items 1 and 2 end while item 0 waits at the gate.
        _ = try await fixture.events(runID, until: "item_completed", count: 2)
        fixture.gate.open()
        _ = try await fixture.waitFor(runID)
        let byIndex = try await fixture.service.items(runID: runID, order: nil)["results"]?.arrayValue
        #expect(byIndex?.map { $0["itemIndex"] } == [0, 1, 2])
        let byCompletion = try await fixture.service.items(runID: runID, order: "RESULT_ORDER_BY_COMPLETION")["results"]?.arrayValue
        #expect(byCompletion?.last?["itemIndex"] == 0)
        #expect(Set(byCompletion?.prefix(2).compactMap { $0["itemIndex"]?.intValue } ?? []) == [1, 2])
        #expect(await refusal { try await fixture.service.items(runID: runID, order: "SIDEWAYS") }?.field == "resultOrder")
    }

    @Test func aFailingItemSaysWhyInStepflowsAndNodalsWords() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/fail"))
        let reply = try await fixture.service.createRun(["flowId": .string(flowID), "input": [[:]], "wait": true])
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_FAILED")
        #expect(reply["summary"]?["items"]?["failed"] == 1)
        let item = try #require(reply["results"]?[0])
        #expect(item["status"] == "EXECUTION_STATUS_FAILED")
        #expect(item["errorCode"] == "TASK_ERROR_CODE_COMPONENT_FAILED")
        #expect(item["errorMessage"] == "it broke")
        #expect(item["errorDetails"] == ["code": "BOOM", "step": "s", "details": ["why": "testing"]])
        #expect(item["output"] == nil)
        let step = try await fixture.service.step(runID: reply["summary"]!["runId"]!.stringValue!, stepID: "s", itemIndex: nil)["step"]
        #expect(step?["status"] == "EXECUTION_STATUS_FAILED")
        #expect(step?["errorCode"] == "TASK_ERROR_CODE_COMPONENT_FAILED")
    }

    @Test func nodalsErrorCodesMapToStepflowsTaskErrorCodes() {
        let expected = [
            "TIMEOUT": "TASK_ERROR_CODE_TIMEOUT", "INVALID_INPUT": "TASK_ERROR_CODE_INVALID_INPUT",
            "INVALID_FLOW": "TASK_ERROR_CODE_COMPONENT_NOT_FOUND", "PLUGIN_UNAVAILABLE": "TASK_ERROR_CODE_COMPONENT_NOT_FOUND",
            "CANCELED": "TASK_ERROR_CODE_CANCELLED", "INPUT_ERROR": "TASK_ERROR_CODE_EXPRESSION_FAILURE",
            "STORE_ERROR": "TASK_ERROR_CODE_ORCHESTRATOR_ERROR", "BOOM": "TASK_ERROR_CODE_COMPONENT_FAILED",
        ]
        for (code, task) in expected { #expect(WireNames.taskErrorCode(code) == task, "\(code)") }
    }

    @Test func anInputTheNodeRefusesIsInvalidInput() async throws {
        let fixture = try ServiceFixture()
        fixture.engine.register(route: "/test/strict", inputSchema: ["type": "object", "required": ["name"]]) { input, _ in input }
        let flowID = try await fixture.store(ServiceFixture.flow("/test/strict"))
        let reply = try await fixture.service.createRun(["flowId": .string(flowID), "input": [["other": 1]], "wait": true])
        #expect(reply["results"]?[0]?["errorCode"] == "TASK_ERROR_CODE_INVALID_INPUT")
    }

    @Test func cancellingStopsItemsInFlightAndThoseNotStarted() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/hold"))
        let runID = try await fixture.start(flowID, [["hold": true], ["hold": true], ["hold": true]], extra: ["maxConcurrency": 2])
        await fixture.gate.waitUntilEntered(2)
        let reply = try await fixture.service.cancelRun(id: runID)
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_CANCELLED")
        #expect(reply["summary"]?["items"]?["cancelled"] == 3)
        let items = try await fixture.service.items(runID: runID, order: nil)["results"]?.arrayValue ?? []
        #expect(items.allSatisfy { $0["errorCode"] == "TASK_ERROR_CODE_CANCELLED" })
        // Cancelling an ended run changes nothing.
        #expect(try await fixture.service.cancelRun(id: runID)["summary"] == reply["summary"])
        fixture.gate.open()
    }

    @Test func aRunningRunCannotBeDeletedAnEndedOneCan() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/hold"))
        let runID = try await fixture.start(flowID, [["hold": true]])
        await fixture.gate.waitUntilEntered(1)
        let refused = await refusal { try await fixture.service.deleteRun(id: runID) }
        #expect(refused?.status == 409)
        #expect(refused?.code == "RUN_ACTIVE")
        fixture.gate.open()
        #expect(try await fixture.waitFor(runID)["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED")
        #expect(try await fixture.service.deleteRun(id: runID) == [:])
        #expect(await refusal { try await fixture.service.run(id: runID, wait: false, timeout: nil) }?.code == "RUN_NOT_FOUND")
        #expect(try await (fixture.store as! any ServiceRunStorage).serviceRun(id: runID) == nil)
    }

    @Test func listFiltersByStatusAndFlowNameAndPages() async throws {
        let fixture = try ServiceFixture()
        let echo = try await fixture.store(ServiceFixture.flow("/test/echo", name: "echo"))
        let fail = try await fixture.store(ServiceFixture.flow("/test/fail", name: "fail"))
        var ids: [String] = []
        for flow in [echo, fail, echo] {
            let reply = try await fixture.service.createRun(["flowId": .string(flow), "input": [1], "wait": true])
            ids.append(reply["summary"]!["runId"]!.stringValue!)
        }
        func list(_ query: RunQuery) async throws -> [String] {
            try await fixture.service.listRuns(query)["runs"]?.arrayValue?.compactMap { $0["runId"]?.stringValue } ?? []
        }
        #expect(try await list(RunQuery()) == ids.reversed())
        #expect(try await list(RunQuery(flowName: "echo")) == [ids[2], ids[0]])
        #expect(try await list(RunQuery(status: "EXECUTION_STATUS_FAILED")) == [ids[1]])
        #expect(try await list(RunQuery(status: "EXECUTION_STATUS_UNSPECIFIED")).count == 3)
        #expect(try await list(RunQuery(limit: 1, offset: 1)) == [ids[1]])
        #expect(try await list(RunQuery(rootsOnly: true)).count == 3)
        #expect(try await list(RunQuery(parentRunID: ids[0])).isEmpty)
        #expect(await refusal { try await fixture.service.listRuns(RunQuery(status: "DONE")) }?.field == "status")
        #expect(await refusal { try await fixture.service.listRuns(RunQuery(limit: 0)) }?.field == "limit")
        #expect(await refusal { try await fixture.service.listRuns(RunQuery(offset: -1)) }?.field == "offset")
        #expect(await refusal { try await fixture.service.listRuns(RunQuery(maxDepth: -1)) }?.field == "maxDepth")
    }

    @Test func aWaitEndsWhenItsTimeoutPassesOnTheServicesClock() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/hold"))
        let service = fixture.service
        let waiting = Task {
            try await service.createRun(["flowId": .string(flowID), "input": [["hold": true]], "wait": true, "timeoutSecs": "5"])
        }
        await fixture.clock.waitForSleepers(count: 1)
        #expect(fixture.clock.pendingDelays == [.seconds(5)])
        fixture.clock.advance(by: .seconds(5))
        let reply = try await waiting.value
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_RUNNING")
        #expect(reply["results"] == nil)
        fixture.gate.open()
        let runID = try #require(reply["summary"]?["runId"]?.stringValue)
        #expect(try await fixture.waitFor(runID)["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED")
    }

    @Test func limitsAndBadFieldsAreRefusedNamingTheField() async throws {
        let fixture = try ServiceFixture(limits: ServiceLimits(maxItemsPerRun: 2, maxWait: .seconds(60)))
        let flowID = try await fixture.store(ServiceFixture.flow("/test/echo"))
        let id = JSON.string(flowID)
        let cases: [(JSON, String, Int)] = [
            (["flowId": id, "input": [1, 2, 3]], "input", 413),
            (["flowId": id, "input": []], "input", 400),
            (["flowId": id, "input": 1], "input", 400),
            (["flowId": id], "input", 400),
            (["input": [1]], "flowId", 400),
            (["flowId": "abc", "input": [1]], "flowId", 400),
            (["flowId": id, "input": [1], "wait": true, "timeoutSecs": "61"], "timeoutSecs", 400),
            (["flowId": id, "input": [1], "timeoutSecs": "soon"], "timeoutSecs", 400),
            (["flowId": id, "input": [1], "timeoutSecs": -1], "timeoutSecs", 400),
            (["flowId": id, "input": [1], "maxConcurrency": 0], "maxConcurrency", 400),
            (["flowId": id, "input": [1], "maxConcurrency": 1.5], "maxConcurrency", 400),
            (["flowId": id, "input": [1], "wait": "yes"], "wait", 400),
            (["flowId": id, "input": [1], "variables": [1]], "variables", 400),
            (["flowId": id, "input": [1], "overrides": ["nope": ["timeoutSecs": 1]]], "overrides.nope", 400),
            (["flowId": id, "input": [1], "overrides": ["s": ["input": 1]]], "overrides.s.input", 400),
            (["flowId": id, "input": [1], "overrides": ["s": ["timeoutSecs": "x"]]], "overrides.s.timeoutSecs", 400),
            (["flowId": id, "input": [1], "colour": "red"], "colour", 400),
            ([1], "", 400),
        ]
        for (request, field, status) in cases {
            let error = await refusal { try await fixture.service.createRun(request) }
            #expect(error?.field == field, "\(request): \(String(describing: error))")
            #expect(error?.status == status, "\(request): \(String(describing: error))")
        }
        let missing = await refusal { try await fixture.service.createRun(["flowId": .string(String(repeating: "a", count: 64)), "input": [1]]) }
        #expect(missing?.code == "FLOW_NOT_FOUND")
        // A wait past the most the server waits is refused on GET too.
        let runID = try await fixture.start(flowID, [1])
        #expect(await refusal { try await fixture.service.run(id: runID, wait: true, timeout: .seconds(61)) }?.field == "timeoutSecs")
        // Overrides that are right are taken.
        let reply = try await fixture.service.createRun(["flowId": id, "input": [1], "overrides": ["s": ["timeoutSecs": 5]], "wait": true])
        #expect(reply["summary"]?["status"] == "EXECUTION_STATUS_COMPLETED")
    }

    @Test func pastTheLiveRunLimitNewRunsWait() async throws {
        let fixture = try ServiceFixture(limits: ServiceLimits(maxLiveRuns: 1))
        let flowID = try await fixture.store(ServiceFixture.flow("/test/hold"))
        let first = try await fixture.start(flowID, [["hold": true]])
        let refused = await refusal { try await fixture.service.createRun(["flowId": .string(flowID), "input": [1]]) }
        #expect(refused?.status == 503)
        #expect(refused?.code == "TOO_MANY_RUNS")
        fixture.gate.open()
        _ = try await fixture.waitFor(first)
        _ = try await fixture.start(flowID, [1])
    }

    @Test func anUnknownRunIsNotFoundEverywhere() async throws {
        let service = try ServiceFixture().service
        let id = "no-such-run"
        let calls: [(String, () async throws -> JSON)] = [
            ("run", { try await service.run(id: id, wait: true, timeout: nil) }),
            ("delete", { try await service.deleteRun(id: id) }),
            ("cancel", { try await service.cancelRun(id: id) }),
            ("resume", { try await service.resumeRun(id: id, ["value": 1]) }),
            ("items", { try await service.items(runID: id, order: nil) }),
            ("steps", { try await service.steps(runID: id, itemIndex: nil) }),
            ("step", { try await service.step(runID: id, stepID: "s", itemIndex: 0) }),
            ("flow", { try await service.runFlow(runID: id) }),
            ("status", { try await service.status(["runId": .string(id)]) }),
            ("events", { _ = try await service.events(runID: id, EventSubscription()); return .null }),
        ]
        for (name, call) in calls {
            let error = await refusal(call)
            #expect(error?.status == 404, "\(name)")
            #expect(error?.code == "RUN_NOT_FOUND", "\(name)")
        }
    }

    @Test func afterShutdownNewRunsAreRefused() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/echo"))
        await fixture.service.shutdown()
        let refused = await refusal { try await fixture.service.createRun(["flowId": .string(flowID), "input": [1]]) }
        #expect(refused?.status == 503)
        #expect(refused?.code == "SHUTTING_DOWN")
        #expect(await fixture.service.health()["status"] == "shutting_down")
    }
}
