@testable import NodalClient
import NodalJSON
import NodalTestSupport
import Synchronization
import Testing

/// The handle's logic against a scripted transport: what it asks, how it waits, when it gives up.
@Suite struct RemoteRunLogicTests {
    /// A transport whose `GET /runs/r1` answers with the statuses in turn (the last one again
    /// once they run out).
    static func polling(_ statuses: [String]) -> ScriptedTransport {
        ScriptedTransport { request, index in
            guard request.method == "GET", request.url.hasPrefix("http://h/api/v1/runs/r1") else {
                throw TestFailure("unexpected \(request.method) \(request.url)")
            }
            return .json(["summary": summaryJSON("r1", statuses[min(index, statuses.count - 1)])])
        }
    }

    @Test func waitPollsAtTheIntervalUntilTheRunEnds() async throws {
        let transport = Self.polling(["RUNNING", "RUNNING", "COMPLETED"])
        let run = NodalClient(baseURL: "http://h", token: "t0k", transport: transport).run(id: "r1")
        let clock = TestClock()
        let waiting = Task { try await run.wait(interval: .seconds(2), timeout: .seconds(60), clock: clock) }
        for _ in 0..<2 {
            await clock.waitForSleepers(count: 1)
            #expect(clock.pendingDelays == [.seconds(2)])
            clock.advance(by: .seconds(2))
        }
        let summary = try await waiting.value
        #expect(summary.status == .completed)
        #expect(run.status?.status == .completed)
        #expect(transport.requests.count == 3)
        #expect(transport.requests.allSatisfy { $0.header("Authorization") == "Bearer t0k" })
        #expect(clock.now.offset == .seconds(4))
    }

    @Test func aTimeoutThrowsWithTheLastStatusAndTheLastPauseIsCutToTheDeadline() async throws {
        let transport = Self.polling(["RUNNING"])
        let run = NodalClient(baseURL: "http://h", transport: transport).run(id: "r1")
        let clock = TestClock()
        let waiting = Task { try await run.wait(interval: .seconds(2), timeout: .seconds(5), clock: clock) }
        var pauses: [Duration] = []
        while pauses.count < 3 {
            await clock.waitForSleepers(count: 1)
            let pause = try #require(clock.pendingDelays.first)
            pauses.append(pause)
            clock.advance(by: pause)
        }
        let error = await #expect(throws: NodalClientError.self) { try await waiting.value }
        #expect(error?.kind == .timeout)
        #expect(error?.lastSummary?.status == .running)
        #expect(error?.lastSummary?.runID == "r1")
        #expect(pauses == [.seconds(2), .seconds(2), .seconds(1)])
        // Polled at 0, 2, 4 and 5 s: the last look is at the deadline itself.
        #expect(transport.requests.count == 4)
    }

    @Test func aPausedRunEndsTheWait() async throws {
        let run = NodalClient(baseURL: "http://h", transport: Self.polling(["PAUSED"])).run(id: "r1")
        #expect(try await run.wait(timeout: .seconds(1), clock: TestClock()).status == .paused)
    }

    @Test func cancellingTheWaitingTaskStopsIt() async throws {
        let run = NodalClient(baseURL: "http://h", transport: Self.polling(["RUNNING"])).run(id: "r1")
        let clock = TestClock()
        let waiting = Task { try await run.wait(interval: .seconds(1), clock: clock) }
        await clock.waitForSleepers(count: 1)
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }

    @Test func aServerRefusalCarriesItsStatusAndBody() async throws {
        let transport = ScriptedTransport { _, _ in
            .json(["code": 404, "message": "no run 'r1'", "error": "RUN_NOT_FOUND", "field": "runId"], status: 404)
        }
        let error = await #expect(throws: NodalClientError.self) {
            try await NodalClient(baseURL: "http://h", transport: transport).run(id: "r1").refresh()
        }
        #expect(error?.kind == .server(status: 404))
        #expect(error?.body?["error"] == "RUN_NOT_FOUND")
        #expect(error?.message.contains("RUN_NOT_FOUND (runId): no run 'r1'") == true)
    }

    @Test func aReplyThatIsNotTheAPIsIsInvalid() async throws {
        let transport = ScriptedTransport { _, index in
            index == 0 ? TransportResponse(status: 200, body: Array("<html>".utf8)) : .json(["summary": ["status": "x"]])
        }
        let client = NodalClient(baseURL: "http://h", transport: transport)
        let notJSON = await #expect(throws: NodalClientError.self) { try await client.run(id: "r1").refresh() }
        #expect(notJSON?.kind == .invalidReply)
        let noID = await #expect(throws: NodalClientError.self) { try await client.run(id: "r1").refresh() }
        #expect(noID?.kind == .invalidReply)
        #expect(noID?.message.contains("runId") == true)
    }

    @Test func aConnectionFailureIsTransport() async throws {
        let transport = ScriptedTransport { _, _ in throw TestFailure("connection refused") }
        let error = await #expect(throws: NodalClientError.self) { try await NodalClient(baseURL: "http://h", transport: transport).health() }
        #expect(error?.kind == .transport)
        #expect(error?.message.contains("connection refused") == true)
    }

    @Test func startRunSendsTheSpecsFieldsAndKeepsTheResults() async throws {
        let transport = ScriptedTransport { request, _ in
            .json([
                "summary": summaryJSON("r9", "COMPLETED", total: 2, completed: 2),
                "results": [
                    ["itemIndex": 1, "status": "EXECUTION_STATUS_COMPLETED", "output": 2, "executionTimeMs": 3.5],
                    ["status": "EXECUTION_STATUS_FAILED", "errorMessage": "boom", "errorCode": "STEP_FAILED", "errorDetails": ["step": "s"]],
                ],
            ])
        }
        let client = NodalClient(baseURL: "http://h/api/v1", transport: transport)
        let options = RunStartOptions(overrides: ["s": ["input": 1]], variables: ["v": true], maxConcurrency: 3, wait: true, timeout: .milliseconds(1500))
        let run = try await client.startRun(flowID: "f", inputs: [1, 2], options: options)
        let request = try #require(transport.requests.first)
        #expect(request.method == "POST")
        #expect(request.url == "http://h/api/v1/runs")
        #expect(try JSON(parsing: request.body ?? []) == [
            "flowId": "f", "input": [1, 2], "overrides": ["s": ["input": 1]], "variables": ["v": true],
            "maxConcurrency": 3, "wait": true, "timeoutSecs": 2,
        ])
        #expect(run.id == "r9")
        #expect(run.status?.items.completed == 2)
        let results = try #require(run.lastResults)
        #expect(results.map(\.itemIndex) == [1, 0])
        #expect(results[0].executionTimeMs == 3.5)
        #expect(results[1].status == .failed)
        #expect(results[1].errorCode == "STEP_FAILED")
        #expect(results[1].errorDetails == ["step": "s"])
    }

    @Test func aFlowTheServerDidNotStoreIsRejectedWithItsDiagnostics() async throws {
        let transport = ScriptedTransport { _, _ in
            .json([
                "flowId": "abc", "stored": false,
                "diagnostics": ["diagnostics": [["level": "DIAGNOSTIC_LEVEL_FATAL", "formatted": "unknown step 'x'", "path": "$.output"]]],
            ])
        }
        let error = await #expect(throws: NodalClientError.self) {
            try await NodalClient(baseURL: "http://h", transport: transport).storeFlow(["steps": []])
        }
        #expect(error?.kind == .flowRejected)
        #expect(error?.message.contains("$.output: unknown step 'x'") == true)
    }

    @Test func listRunsWritesItsFiltersAsTheSpecNamesThem() async throws {
        let transport = ScriptedTransport { _, _ in .json(["runs": [summaryJSON("a", "FAILED"), summaryJSON("b", "RECOVERY_FAILED")]]) }
        let runs = try await NodalClient(baseURL: "http://h", transport: transport)
            .listRuns(RunListQuery(status: .failed, flowName: "demo", rootsOnly: true, limit: 5))
        #expect(transport.requests.first?.url == "http://h/api/v1/runs?status=EXECUTION_STATUS_FAILED&flowName=demo&rootsOnly=true&limit=5")
        #expect(runs.map(\.status) == [.failed, .recoveryFailed])
        #expect(runs[0].createdAt != nil)
    }

    @Test func resultsAskForTheirOrder() async throws {
        let transport = ScriptedTransport { _, _ in .json([:]) }
        let run = NodalClient(baseURL: "http://h", transport: transport).run(id: "r1")
        #expect(try await run.results(order: .byCompletion).isEmpty)
        #expect(try await run.results(order: .byIndex).isEmpty)
        #expect(transport.requests.map(\.url) == ["http://h/api/v1/runs/r1/items?resultOrder=RESULT_ORDER_BY_COMPLETION", "http://h/api/v1/runs/r1/items"])
    }

    @Test func bytesBlobsGoAsBase64AndComeBack() async throws {
        let stored = Mutex<JSON?>(nil)
        let transport = ScriptedTransport { request, _ in
            if request.method == "POST" {
                let body = try JSON(parsing: request.body ?? [])
                stored.withLock { $0 = body }
                return .json(["blobId": "b1"])
            }
            let body = stored.withLock { $0 } ?? .null
            return .json(["blobId": "b1", "rawData": body["rawData"] ?? .null, "blobType": "binary", "contentType": body["contentType"] ?? .null])
        }
        let client = NodalClient(baseURL: "http://h", transport: transport)
        let bytes: [UInt8] = [0, 1, 2, 250, 255]
        #expect(try await client.putBlob(bytes: bytes, contentType: "application/octet-stream") == "b1")
        #expect(stored.withLock { $0?["rawData"] } == "AAEC+v8=")
        let blob = try await client.blob(id: "b1")
        #expect(blob.content == .bytes(bytes))
        #expect(blob.contentType == "application/octet-stream")
    }

    /// Stepflow's own server writes enums as numbers and nests its error body.
    @Test func enumsAsNumbersAndStepflowsErrorBodyAreRead() async throws {
        let summary = try RunSummary(json: ["runId": "r", "status": 2, "items": ["total": 1, "completed": 1]])
        #expect(summary.status == .completed)
        #expect(try RunSummary(json: ["runId": "r", "status": 5]).status == .paused)
        #expect(try RunSummary(json: ["runId": "r", "status": 42]).status == .unknown("42"))
        #expect(try RunSummary(json: ["runId": "r"]).status == .unknown("EXECUTION_STATUS_UNSPECIFIED"))
        #expect(try ItemResult(json: ["status": 3, "errorCode": 4]).errorCode == "4")
        #expect(try ItemResult(json: ["errorDetails": nil]).errorDetails == nil)
        let transport = ScriptedTransport { _, _ in
            .json(["error": ["code": 400, "message": "invalid UUID: 'nope'", "status": "INVALID_ARGUMENT"]], status: 400)
        }
        let error = await #expect(throws: NodalClientError.self) { try await NodalClient(baseURL: "http://h", transport: transport).run(id: "nope").refresh() }
        #expect(error?.kind == .server(status: 400))
        #expect(error?.message.hasSuffix("HTTP 400 INVALID_ARGUMENT: invalid UUID: 'nope'") == true)
    }
}
