import Testing
@testable import NodalCore
import NodalJSON

/// `Flow.withStepInputs`: a step's input field set to a literal from the request.
@Suite struct StepInputOverrideTests {
    static let twoSteps = """
        steps:
          - { id: a, component: /app/shout, input: { text: { $input: word } } }
          - { id: b, component: /app/echo, input: { text: { $step: a, path: text }, keep: 1 } }
        output: { a: { $step: a }, b: { $step: b } }
        """

    static func engine() -> Engine {
        let engine = Engine()
        engine.register(route: "/app/shout") { input, _ in ["text": .string((input["text"]?.stringValue ?? "").uppercased())] }
        engine.register(route: "/app/echo") { input, _ in input }
        return engine
    }

    @Test func overrideReplacesWhatTheStepReadsFromAnotherStep() async throws {
        let flow = try Flow(yaml: Self.twoSteps)
        let rewritten = try flow.withStepInputs([StepInputOverride(step: "b", field: "text", value: "given")])
        #expect(rewritten.steps[1].eagerDependencies.isEmpty, "b no longer waits for a")
        #expect(flow.steps[1].eagerDependencies == [0], "the original flow is unchanged")
        try Self.engine().validate(rewritten)

        let result = await Self.engine().run(rewritten, input: ["word": "hi"])
        #expect(result.status == .success)
        #expect(result.output?["a"] == ["text": "HI"], "a still runs")
        #expect(result.output?["b"] == ["text": "given", "keep": 1], "b gets the literal, its other fields as wired")
        let plain = await Self.engine().run(flow, input: ["word": "hi"])
        #expect(plain.output?["b"]?["text"] == "HI")
    }

    @Test func fieldMissingFromAnObjectInputIsAdded() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: only, component: /app/echo, input: { fixed: 1 } }
              - { id: bare, component: /app/echo }
            output: { only: { $step: only }, bare: { $step: bare } }
            """)
        let rewritten = try flow.withStepInputs([
            StepInputOverride(step: "only", field: "extra", value: ["nested": [1, 2]]),
            StepInputOverride(step: "only", field: "fixed", value: 2),
            StepInputOverride(step: "bare", field: "x", value: "y"),
        ])
        let result = await Self.engine().run(rewritten, input: [:])
        #expect(result.output?["only"] == ["fixed": 2, "extra": ["nested": [1, 2]]])
        #expect(result.output?["bare"] == ["x": "y"])
    }

    @Test func valueIsALiteralNotAnExpression() async throws {
        let flow = try Flow(yaml: Self.twoSteps)
        let rewritten = try flow.withStepInputs([StepInputOverride(step: "b", field: "text", value: ["$input": "word"])])
        let result = await Self.engine().run(rewritten, input: ["word": "hi"])
        #expect(result.output?["b"]?["text"] == ["$input": "word"])
    }

    @Test func unknownStepAndNonObjectInputAreRefused() throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: whole, component: /app/echo, input: { $input: "$" } }
              - { id: text, component: /app/echo, input: "just a string" }
            output: { $step: whole }
            """)
        #expect(throws: FlowError.self) { try flow.withStepInputs([StepInputOverride(step: "nope", field: "x", value: 1)]) }
        #expect(flow.refusal(of: StepInputOverride(step: "nope", field: "x", value: 1))?.contains("no step 'nope'") == true)
        let expression = flow.refusal(of: StepInputOverride(step: "whole", field: "x", value: 1))
        #expect(expression?.contains("one expression") == true)
        let string = flow.refusal(of: StepInputOverride(step: "text", field: "x", value: 1))
        #expect(string?.contains("string") == true)
        #expect(flow.refusal(of: StepInputOverride(step: "whole", field: "", value: 1)) != nil)
    }

    @Test func sourceHashCoversTheOverrides() throws {
        let flow = try Flow(yaml: Self.twoSteps)
        let one = try flow.withStepInputs([StepInputOverride(step: "b", field: "text", value: "x")])
        let same = try flow.withStepInputs([StepInputOverride(step: "b", field: "text", value: "x")])
        let other = try flow.withStepInputs([StepInputOverride(step: "b", field: "text", value: "y")])
        #expect(flow.sourceHash != nil)
        #expect(one.sourceHash != flow.sourceHash)
        #expect(one.sourceHash == same.sourceHash)
        #expect(one.sourceHash != other.sourceHash)
        #expect(try flow.withStepInputs([]).sourceHash == flow.sourceHash)
    }

    /// The run service keeps flows as blobs and builds them from documents, which have no hash:
    /// an item run with overrides must not resume without them.
    @Test func resumeOfAnItemWithOverridesNeedsTheSameOverrides() async throws {
        let document = try JSON(parsing: """
            {"steps": [{"id": "ask", "component": "/builtin/interrupt", "input": {"text": "?"}},
                       {"id": "b", "component": "/app/echo", "input": {"answer": {"$step": "ask"}, "text": "wired"}}],
             "output": {"$step": "b"}}
            """)
        let flow = try Flow(document: document)
        #expect(flow.sourceHash == nil)
        let overrides = [StepInputOverride(step: "b", field: "text", value: "given")]
        let engine = Self.engine()
        let store = InMemoryRunStore()
        var options = RunOptions()
        options.store = store
        let paused = await engine.run(try flow.withStepInputs(overrides), input: [:], options: options)
        #expect(paused.status == .paused)
        let key = try #require(paused.pause?.key)
        await #expect(throws: ResumeError.self) {
            _ = try await engine.resume(runID: paused.runID, store: store, values: [key: "yes"], flow: try Flow(document: document))
        }
        let resumed = try await engine.resume(
            runID: paused.runID, store: store, values: [key: "yes"], flow: try Flow(document: document).withStepInputs(overrides))
        #expect(resumed.status == .success)
        #expect(resumed.output?["text"] == "given")
    }
}
