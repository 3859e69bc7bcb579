import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// `/builtin/map`: a flow over items, with failures kept per item.
@Suite struct MapTests {
    @Test func failedItemsAreReportedAndDoNotFailTheStep() async throws {
        let engine = Engine()
        engine.register(route: "/app/half") { input, _ in
            guard let n = input.intValue, n % 2 == 0 else { throw StepError(code: "ODD", message: "\(input) is odd") }
            return .int(n / 2)
        }
        let flow = try Flow(yaml: """
            steps:
              - id: halves
                component: /builtin/map
                input:
                  workflow:
                    $literal:
                      steps: [{ id: h, component: /app/half, input: { $input: $ } }]
                      output: { $step: h }
                  items: { $input: numbers }
                  max_concurrency: 2
            output: { $step: halves }
            """)
        let result = await engine.run(flow, input: ["numbers": [4, 3, 10]])
        #expect(result.status == .success)
        let output = try #require(result.output)
        #expect(output["successful"] == 2)
        #expect(output["failed"] == 1)
        let results = try #require(output["results"]?.arrayValue)
        #expect(results[0] == ["outcome": "success", "result": 2])
        #expect(results[1]["outcome"] == "failed")
        #expect(results[1]["error"]?["code"] == "ODD")
        #expect(results[2] == ["outcome": "success", "result": 5])
    }

    @Test func anInvalidInnerFlowFailsTheStepSayingWhy() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: m
                component: /builtin/map
                input: { workflow: { $literal: { steps: [{ id: x, component: /nowhere/at-all }], output: 1 } }, items: [1] }
            output: { $step: m }
            """)
        let result = await Engine().run(flow, input: [:])
        #expect(result.step("m")?.error?.code == "INVALID_INPUT")
        #expect(result.step("m")?.error?.message.contains("/nowhere/at-all") == true)
    }
}
