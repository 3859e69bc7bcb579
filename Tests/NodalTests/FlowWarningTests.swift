import Testing
@testable import NodalCore
import NodalTestSupport

/// Keys Nodal does not know on a flow or a step: ignored with a warning naming the file, line and
/// key, as Stepflow ignores them; refused when reading is strict.
@Suite struct FlowWarningTests {
    static let flowText = """
        name: greet
        author: someone
        input:
          type: object
        steps:
          - id: hello
            component: /builtin/eval
            skipIf: true
            author: someone else
            input: { flow: { $literal: { steps: [], output: 1 } }, input: {} }
        output: { $step: hello }
        """

    @Test func unknownKeysAreIgnoredWithAWarningNamingFileLineAndKey() throws {
        let flow = try Flow(yaml: Self.flowText, file: "greet.yaml")
        let warnings = flow.warnings.map(\.description)
        #expect(warnings.count == 4, "\(warnings)")
        #expect(warnings[0].hasPrefix("greet.yaml:2: field 'author': unknown flow key, ignored (known: "))
        #expect(warnings[1].hasPrefix("greet.yaml:3: field 'input': unknown flow key, ignored"))
        #expect(warnings[2].hasPrefix("greet.yaml:8: step 'hello', field 'skipIf': unknown step key, ignored"))
        #expect(warnings[3].hasPrefix("greet.yaml:9: step 'hello', field 'author': unknown step key, ignored"))
        #expect(flow.stepIDs == ["hello"])
    }

    @Test func strictReadingRefusesTheFirstUnknownKey() {
        #expect {
            _ = try Flow(yaml: Self.flowText, file: "greet.yaml", strict: true)
        } throws: { error in
            let error = error as? FlowError
            return error?.field == "author" && error?.message.hasPrefix("unknown flow key (known: ") == true
        }
        #expect {
            _ = try Flow(yaml: "steps: [{ id: a, component: /builtin/eval, colour: red }]\noutput: 1", strict: true)
        } throws: { error in
            (error as? FlowError)?.step == "a" && (error as? FlowError)?.field == "colour"
        }
    }

    @Test func aJSONFlowsWarningsHaveLinesToo() throws {
        let text = """
            {
              "steps": [
                {"id": "a", "component": "/builtin/eval",
                 "colour": "red", "input": {"flow": {"$literal": {"steps": [], "output": 1}}, "input": {}}}
              ],
              "output": {"$step": "a"},
              "owner": "me"
            }
            """
        let flow = try Flow(json: text, file: "f.json")
        // The flow's own keys first, then its steps'.
        #expect(flow.warnings.map(\.line) == [7, 4])
        #expect(flow.warnings.last?.description.hasPrefix("f.json:4: step 'a', field 'colour': ") == true)
        #expect(flow.warnings.map(\.field) == ["owner", "colour"])
    }

    @Test func aSubflowsWarningsAreTheParentsWarningsNamingTheSubflowFile() throws {
        let folder = try temporaryDirectory(containing: [
            "inner.yaml": "steps: []\noutput: 1\nnotes: hi\n",
            "outer.yaml": "steps:\n  - { id: sub, flow: inner.yaml }\noutput: { $step: sub }\n",
        ])
        let flow = try Flow(contentsOfFile: folder + "/outer.yaml")
        #expect(flow.warnings.count == 1)
        #expect(flow.warnings.first?.file?.hasSuffix("/inner.yaml") == true)
        #expect(flow.warnings.first?.line == 3 && flow.warnings.first?.field == "notes")
        #expect(throws: FlowError.self) { try Flow(contentsOfFile: folder + "/outer.yaml", strict: true) }
    }

    @Test func aFlowWithUnknownKeysRuns() async throws {
        let flow = try Flow(yaml: Self.flowText, file: "greet.yaml")
        let result = await Engine().run(flow, input: [:])
        #expect(result.status == .success, "\(String(describing: result.error))")
    }
}
