import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

@Suite struct FlowLoadingTests {
    @Test func cycleNamesTheStepsOnIt() {
        let yaml = """
            steps:
              - id: a
                component: /builtin/create_messages
                input: { user_prompt: { $step: c } }
              - id: b
                component: /builtin/create_messages
                input: { user_prompt: { $step: a } }
              - id: c
                component: /builtin/create_messages
                input: { user_prompt: { $step: b } }
            output: { $step: c }
            """
        let error = #expect(throws: FlowError.self) { try Flow(yaml: yaml, file: "cycle.yaml") }
        #expect(error?.file == "cycle.yaml")
        #expect(error?.message.contains("cycle") == true)
        for id in ["a", "b", "c"] { #expect(error?.message.contains(id) == true) }
    }

    @Test func cycleThroughALazyBranchIsStillACycle() {
        let yaml = """
            steps:
              - id: a
                component: /builtin/create_messages
                input: { user_prompt: { $if: true, then: "x", else: { $step: a } } }
            output: { $step: a }
            """
        #expect(throws: FlowError.self) { try Flow(yaml: yaml) }
    }

    @Test func malformedYAMLNamesTheFile() {
        let error = #expect(throws: FlowError.self) { try Flow(yaml: "steps: [\n  - id: a\n  component", file: "broken.yaml") }
        #expect(error?.file == "broken.yaml")
        #expect(error?.message.contains("malformed YAML") == true)
    }

    @Test func unknownStepReferenceNamesStepAndField() {
        let yaml = """
            steps:
              - id: first
                component: /builtin/create_messages
                input: { user_prompt: { $step: nope, path: x } }
            output: { $step: first }
            """
        let error = #expect(throws: FlowError.self) { try Flow(yaml: yaml, file: "f.yaml") }
        #expect(error?.step == "first")
        #expect(error?.field == "input.user_prompt.$step")
        #expect(error?.message.contains("unknown step 'nope'") == true)
    }

    @Test func expressionOfTheWrongShapeIsRefused() {
        let cases = [
            "{ $input: 3 }",
            "{ $step: first, extra: 1 }",
            "{ $if: true }",
            "{ $coalesce: 5 }",
            "{ $unknown: 1 }",
            "{ $input: '$.a[x' }",
        ]
        for expression in cases {
            let yaml = """
                steps:
                  - id: first
                    component: /builtin/create_messages
                    input: { user_prompt: \(expression) }
                output: { $step: first }
                """
            let error = #expect(throws: FlowError.self, "\(expression)") { try Flow(yaml: yaml) }
            #expect(error?.step == "first", "\(expression)")
        }
    }

    @Test func duplicateStepIDsAndMissingComponentAreRefused() {
        #expect(throws: FlowError.self) {
            try Flow(yaml: "steps: [{id: a, component: /x/y}, {id: a, component: /x/y}]\noutput: 1")
        }
        let error = #expect(throws: FlowError.self) { try Flow(yaml: "steps: [{id: a}]\noutput: 1") }
        #expect(error?.field == "component")
    }

    @Test func unknownComponentRouteNamesFileStepAndField() throws {
        let flow = try Flow(yaml: "steps: [{id: s, component: /nowhere/thing}]\noutput: {$step: s}", file: "route.yaml")
        let error = #expect(throws: FlowError.self) { try Engine().validate(flow) }
        #expect(error?.file == "route.yaml")
        #expect(error?.step == "s")
        #expect(error?.field == "component")
        #expect(error?.message.contains("/nowhere/thing") == true)
    }

    @Test func readsTestCasesAndSchemas() throws {
        let flow = try Flow(contentsOfFile: Products.conformance + "/basic.yaml")
        #expect(flow.testCases.map(\.name) == ["simple_echo", "different_message"])
        #expect(flow.inputSchema?["properties"]?["message"]?["type"] == "string")
        #expect(flow.stepIDs == ["message_step"])
    }
}

@Suite struct YAMLScalarTests {
    @Test func coreSchemaScalars() async throws {
        let flow = try Flow(yaml: """
            steps: []
            output: [yes, no, on, "true", true, 10:30, 0x1F, 1.5e3, 007, ~, null, 2024-01-01, .inf, -3]
            """)
        let result = await Engine().run(flow, input: [:])
        #expect(result.output == ["yes", "no", "on", "true", true, "10:30", 31, 1500.0, 7, nil, nil, "2024-01-01", .double(.infinity), -3])
    }
}

@Suite struct SchemaSpellingTests {
    @Test func allThreeStepflowSpellingsOfSchemasAreRead() throws {
        let spellings = [
            "schemas: { type: object, properties: { input: { type: string } } }",
            "inputSchema: { type: string }",
            "input_schema: { type: string }",
        ]
        for spelling in spellings {
            let flow = try Flow(yaml: "\(spelling)\nsteps: []\noutput: 1")
            #expect(flow.inputSchema == ["type": "string"], "\(spelling)")
        }
    }
}
