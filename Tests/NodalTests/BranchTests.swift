import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Multi-way choices: only the chosen branch's steps run; the others are recorded as not taken.
@Suite struct BranchTests {
    func engine() -> Engine {
        let engine = Engine()
        engine.register(route: "/app/echo") { input, _ in input }
        return engine
    }

    let flowText = """
        steps:
          - { id: small, component: /app/echo, input: { size: s } }
          - { id: large, component: /app/echo, input: { size: l } }
          - { id: other, component: /app/echo, input: { size: other } }
        output:
          $switch: { $input: size }
          cases:
            small: { $step: small, path: size }
            large: { $step: large, path: size }
          default: { $step: other, path: size }
        """

    @Test func onlyTheChosenCaseRuns() async throws {
        let flow = try Flow(yaml: flowText)
        let result = await engine().run(flow, input: ["size": "large"])
        #expect(result.output == "l")
        #expect(result.step("large")?.status == .success)
        #expect(result.step("small")?.status == .skipped)
        #expect(result.step("small")?.skipReason == "on a branch not taken")
        #expect(result.step("other")?.status == .skipped)
    }

    @Test func defaultWhenNoCaseMatches() async throws {
        let result = await engine().run(try Flow(yaml: flowText), input: ["size": "medium"])
        #expect(result.output == "other")
    }

    @Test func numbersAndBooleansChooseByTheirJSONText() async throws {
        let flow = try Flow(yaml: "steps: []\noutput: { $switch: { $input: n }, cases: { '1': one, 'true': yes } }")
        #expect(await engine().run(flow, input: ["n": 1]).output == "one")
        #expect(await engine().run(flow, input: ["n": true]).output == "yes")
    }

    @Test func aMissingBranchWithoutDefaultNamesTheValueAndTheBranches() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: pick, component: /app/echo, input: { choice: { $switch: { $input: mode }, cases: { fast: 1, slow: 2 } } } }
            output: { $step: pick }
            """)
        let result = await engine().run(flow, input: ["mode": "medium"])
        #expect(result.status == .failed)
        let message = result.step("pick")?.error?.message ?? ""
        #expect(message.contains("medium"))
        #expect(message.contains("fast, slow"))
    }

    @Test func switchNeedsCases() {
        #expect(throws: FlowError.self) { try Flow(yaml: "steps: []\noutput: { $switch: 1 }") }
    }
}
