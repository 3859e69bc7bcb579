import NodalCore
import NodalJSON
import Testing
@testable import NodalService

/// The Noxus result's execution time and error message and details.
@Suite struct ResultExtrasTests {
    @Test func executionTimeRoundsToWholeMillisecondsAndIsNeverNegative() {
        #expect(ResultExtras.executionTimeMs(.milliseconds(1500)) == 1500)
        #expect(ResultExtras.executionTimeMs(.microseconds(1499)) == 1)
        #expect(ResultExtras.executionTimeMs(.microseconds(1500)) == 2)
        #expect(ResultExtras.executionTimeMs(.zero) == 0)
        #expect(ResultExtras.executionTimeMs(.milliseconds(-5)) == 0)
        #expect(ResultExtras.executionTimeMs(.seconds(Int64.max)) == Int.max)
        #expect(ResultExtras.executionTimeMs(result: ["durationMs": 12.6]) == 13)
        #expect(ResultExtras.executionTimeMs(result: ["status": "running"]) == nil)
    }

    @Test func failedRunGivesItsStepsMessageAndDetails() async throws {
        let engine = Engine()
        engine.register(route: "/app/fail") { _, _ in throw StepError(code: "NO_PAPER", message: "the printer is out of paper", details: ["tray": 2]) }
        let flow = try Flow(yaml: "steps: [ { id: print, component: /app/fail } ]\noutput: { $step: print }")
        let result = await engine.run(flow, input: [:]).json
        #expect(ResultExtras.errorMessage(result: result) == "the printer is out of paper")
        let details = try #require(ResultExtras.errorDetails(result: result))
        #expect(details["code"] == "NO_PAPER")
        #expect(details["step"] == "print")
        #expect(details["details"] == ["tray": 2])
        #expect(details["steps"]?[0]?["id"] == "print")
        #expect(ResultExtras.executionTimeMs(result: result) != nil)

        engine.register(route: "/app/ok") { _, _ in "fine" }
        let ok = await engine.run(try Flow(yaml: "steps: [ { id: s, component: /app/ok } ]\noutput: { $step: s }"), input: [:]).json
        #expect(ResultExtras.errorMessage(result: ok) == nil)
        #expect(ResultExtras.errorDetails(result: ok) == nil)
    }
}
