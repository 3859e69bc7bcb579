import Nodal
import NodalTestSupport
import Testing
@testable import NodalService

/// `runs/submit` and `runs/get` as seed 002 gives them, field by field.
@Suite struct JSONRPCServiceTests {
    @Test func submitWithWaitAnswersTheSeedsRunStatus() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/echo", name: "Data Processing Workflow"))
        let status = try await fixture.service.submit([
            "flowId": .string("sha256:" + flowID), "inputs": [["user": "a"], ["user": "b"]], "wait": true, "maxConcurrency": 10,
            "observability": ["traceId": "t"],
        ])
        let object = try #require(status.objectValue)
        #expect(object.keys == ["runId", "flowId", "flowName", "status", "items", "createdAt", "completedAt", "results"])
        #expect(status["flowId"] == .string(flowID))
        #expect(status["flowName"] == "Data Processing Workflow")
        #expect(status["status"] == "success")
        #expect(status["items"] == ["total": 2, "pending": 0, "running": 0, "success": 2, "failed": 0, "cancelled": 0])
        let results = try #require(status["results"]?.arrayValue)
        #expect(results.count == 2)
        #expect(results[0].objectValue?.keys == ["itemIndex", "result", "completedAt"])
        #expect(results[0]["result"] == ["outcome": "success", "value": ["user": "a"]])
        #expect(results[1]["itemIndex"] == 1)
        // runs/get: without results unless asked, in the order asked.
        let runID = try #require(status["runId"])
        let plain = try await fixture.service.status(["runId": runID])
        #expect(plain["results"] == nil)
        #expect(plain["status"] == "success")
        let ordered = try await fixture.service.status(["runId": runID, "includeResults": true, "resultOrder": "byCompletion", "wait": true])
        #expect(Set(ordered["results"]?.arrayValue?.compactMap { $0["itemIndex"]?.intValue } ?? []) == [0, 1])
    }

    @Test func aFailedItemIsAFailedOutcomeWithItsCode() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/fail"))
        let status = try await fixture.service.submit(["flowId": .string(flowID), "inputs": [1], "wait": true])
        #expect(status["status"] == "failed")
        #expect(status["items"]?["failed"] == 1)
        #expect(status["results"]?[0]?["result"] == ["outcome": "failed", "error": ["code": "BOOM", "message": "it broke"]])
    }

    @Test func aRunNotStartedIsPendingAndOneGoingIsRunning() async throws {
        let fixture = try ServiceFixture()
        let flowID = try await fixture.store(ServiceFixture.flow("/test/hold"))
        let status = try await fixture.service.submit(["flowId": .string(flowID), "inputs": [["hold": true], ["hold": true]], "maxConcurrency": 1])
        await fixture.gate.waitUntilEntered(1)
        let going = try await fixture.service.status(["runId": status["runId"]!])
        #expect(going["status"] == "running")
        #expect(going["items"] == ["total": 2, "pending": 1, "running": 1, "success": 0, "failed": 0, "cancelled": 0])
        #expect(going["completedAt"] == nil)
        fixture.gate.open()
        #expect(try await fixture.service.status(["runId": status["runId"]!, "wait": true])["status"] == "success")
    }

    @Test func badParamsAreRefusedNamingThem() async throws {
        let fixture = try ServiceFixture()
        let flowID = JSON.string(try await fixture.store(ServiceFixture.flow("/test/echo")))
        let submits: [(JSON, String)] = [
            (["flowId": flowID, "input": [1]], "input"),
            (["flowId": flowID], "inputs"),
            (["flowId": flowID, "inputs": [1], "wait": 1], "wait"),
            (["inputs": [1]], "flowId"),
        ]
        for (params, field) in submits {
            #expect(await refusal { try await fixture.service.submit(params) }?.field == field, "\(params)")
        }
        let gets: [(JSON, String)] = [
            ([:], "runId"), (["runId": 5], "runId"), (["runId": "x", "resultOrder": "random"], "resultOrder"),
            (["runId": "x", "includeResults": "yes"], "includeResults"), (["runId": "x", "since": 1], "since"),
        ]
        for (params, field) in gets {
            #expect(await refusal { try await fixture.service.status(params) }?.field == field, "\(params)")
        }
    }
}
