import Testing
@testable import NodalCore
@testable import NodalJSON

/// A step's own `inputSchema`/`outputSchema` (or Stepflow's `input_schema`/`output_schema`): each
/// takes the place of its component's, at run time and in `Engine.validate`.
@Suite struct StepSchemaTests {
    func engine() -> Engine {
        let engine = Engine()
        engine.register(route: "/app/echo") { input, _ in input }
        engine.register(route: "/app/count", inputSchema: ["type": "object", "properties": ["n": ["type": "integer"]]]) { input, _ in input }
        return engine
    }

    @Test func aStepsInputSchemaIsCheckedBeforeItsNodeIsCalled() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: greet
                component: /app/echo
                inputSchema: { type: object, required: [name], properties: { name: { type: string } } }
                input: { name: { $input: name } }
            output: { $step: greet }
            """)
        let engine = engine()
        #expect(await engine.run(flow, input: ["name": "ada"]).output == ["name": "ada"])
        let bad = await engine.run(flow, input: ["name": 7])
        #expect(bad.status == .failed)
        let error = try #require(bad.step("greet")?.error)
        #expect(error.code == "INVALID_INPUT")
        #expect(error.message.contains("input.name"), "\(error.message)")
        #expect(error.message.contains("step 'greet'"), "\(error.message)")
    }

    @Test func aStepsOutputSchemaIsWhatValidateKnowsOfItsOutput() throws {
        let flow = try Flow(yaml: """
            steps:
              - id: a
                component: /app/echo
                output_schema: { type: object, properties: { v: { type: string } } }
                input: { v: x }
              - { id: b, component: /app/count, input: { n: { $step: a, path: v } } }
            output: { $step: b }
            """)
        let error = #expect(throws: FlowError.self) { try engine().validate(flow) }
        #expect(error?.step == "b")
        #expect(error?.field == "input.n", "\(String(describing: error))")
    }

    @Test func aStepsOwnInputSchemaReplacesItsComponents() async throws {
        // /app/count wants an integer n; this step says any string will do.
        let flow = try Flow(yaml: """
            steps:
              - id: c
                component: /app/count
                inputSchema: { type: object, properties: { n: { type: string } } }
                input: { n: { $input: n } }
            output: { $step: c }
            """)
        let engine = engine()
        #expect(await engine.run(flow, input: ["n": "seven"]).status == .success)
        #expect(await engine.run(flow, input: ["n": 7]).step("c")?.error?.code == "INVALID_INPUT")
    }

    @Test func aStepSchemaThatIsNotAJSONSchemaIsRefusedNamingStepAndKey() {
        let error = #expect(throws: FlowError.self) {
            try Flow(yaml: "steps:\n  - { id: s, component: /app/echo, inputSchema: { type: 12 } }\noutput: 1\n")
        }
        #expect(error?.step == "s" && error?.field == "inputSchema")
    }

    @Test func nullStepSchemasAsStepflowWritesThemDeclareNothing() throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: s, component: /app/count, input_schema: null, output_schema: null, input: { n: 1 } }
            output: { $step: s }
            """)
        #expect(flow.warnings.isEmpty)
        #expect(flow.steps[0].schemas == nil)
        try engine().validate(flow)
    }
}
