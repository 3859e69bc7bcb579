import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON

/// Inputs and outputs checked against their JSON Schemas: the run's input before any step, each
/// step's input before its call, outputs in strict mode, and `Engine.validate`'s static check.
@Suite struct SchemaCheckTests {
    final class Counter: Sendable {
        private let value = Mutex(0)
        func next() -> Int { value.withLock { $0 += 1; return $0 } }
        var current: Int { value.withLock { $0 } }
    }

    static let userSchema: JSON = [
        "type": "object",
        "properties": [
            "user": [
                "type": "object",
                "properties": ["age": ["type": "integer"], "name": ["type": "string"]],
                "required": ["age"],
            ],
            "greeting": ["type": "string", "default": "hello"],
            "options": [
                "type": "object", "default": [:],
                "properties": ["loud": ["type": "boolean", "default": false]],
            ],
        ],
        "required": ["user"],
    ]

    static let userFlowDocument: JSON = [
        "inputSchema": userSchema,
        "steps": [["id": "echo", "component": "/app/echo", "input": [
            "age": ["$input": "$.user.age"], "greeting": ["$input": "greeting"], "loud": ["$input": "$.options.loud"],
        ]]],
        "output": ["$step": "echo"],
    ]

    /// A flow with the user schema whose one step echoes what it reads, and a counter of its calls.
    /// With `directory`, the flow is read from a file there (a resume reads it again).
    func userFlow(in directory: String? = nil) throws -> (Engine, Flow, Counter) {
        let engine = Engine()
        let calls = Counter()
        engine.register(route: "/app/echo") { input, _ in
            _ = calls.next()
            return input
        }
        guard let directory else { return (engine, try Flow(document: Self.userFlowDocument), calls) }
        let path = directory + "/flow.json"
        try Self.userFlowDocument.serialized().write(toFile: path, atomically: true, encoding: .utf8)
        return (engine, try Flow(contentsOfFile: path), calls)
    }

    static func stdEngine() throws -> Engine {
        let engine = Engine()
        try engine.loadPlugin(at: Products.plugin("nodal_std"))
        return engine
    }

    // MARK: The run's input

    @Test func aMissingRequiredFieldFailsTheRunBeforeAnyStep() async throws {
        let (engine, flow, calls) = try userFlow()
        let result = await engine.run(flow, input: ["user": ["name": "Ada"]])
        #expect(result.status == .failed)
        #expect(result.error?.code == "INVALID_INPUT")
        let message = result.error?.message ?? ""
        #expect(message.contains("input.user.age"), "\(message)")
        #expect(message.contains("missing required property 'age'"), "\(message)")
        #expect(result.steps.map(\.status) == [.notRun])
        #expect(calls.current == 0)
        #expect(result.input == ["user": ["name": "Ada"]], "the input as given is kept")

        let none = await engine.run(flow, input: [:])
        #expect(none.error?.message.contains("input.user: missing required property 'user'") == true, "\(none.error?.message ?? "")")
    }

    @Test func aWrongTypeNamesTheNestedField() async throws {
        let (engine, flow, calls) = try userFlow()
        let result = await engine.run(flow, input: ["user": ["age": "forty", "name": 7]])
        #expect(result.error?.code == "INVALID_INPUT")
        let message = result.error?.message ?? ""
        #expect(message.contains("input.user.age: expected an integer, got string \"forty\""), "\(message)")
        #expect(message.contains("input.user.name: expected a string, got number 7"), "\(message)")
        #expect(calls.current == 0)
        #expect(result.json["error"]?["code"] == "INVALID_INPUT")
    }

    @Test func defaultsAreFilledInBeforeTheSteps() async throws {
        let (engine, flow, _) = try userFlow()
        let result = await engine.run(flow, input: ["user": ["age": 36]])
        #expect(result.status == .success)
        #expect(result.output == ["age": 36, "greeting": "hello", "loud": false])
        // The result's input is the one the steps saw.
        #expect(result.input == ["user": ["age": 36], "greeting": "hello", "options": ["loud": false]])
        // Given values are kept.
        let given = await engine.run(flow, input: ["user": ["age": 1], "greeting": "hi", "options": ["loud": true]])
        #expect(given.output == ["age": 1, "greeting": "hi", "loud": true])
    }

    @Test func theRunRecordSaysWhyTheInputWasRefused() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (engine, flow, calls) = try userFlow(in: directory)
        let store = InMemoryRunStore()
        let result = await engine.run(flow, input: ["user": ["age": "x"]], options: RunOptions(runID: "bad-input", store: store))
        #expect(result.runID == "bad-input")
        #expect(result.error?.code == "INVALID_INPUT")
        let record = try #require(try store.run(id: "bad-input"))
        #expect(record.status == .failed)
        #expect(record.input == ["user": ["age": "x"]])
        #expect(record.result?["error"]?["code"] == "INVALID_INPUT")
        #expect(record.result?["error"]?["message"]?.stringValue?.contains("input.user.age") == true)
        // Resuming it checks the recorded input the same way: it is refused again, not run.
        let resumed = try await engine.resume(runID: "bad-input", store: store)
        #expect(resumed.error?.code == "INVALID_INPUT")
        #expect(resumed.steps.map(\.status) == [.notRun])
        #expect(calls.current == 0)
    }

    @Test func aResumedRunSeesTheInputItWasRecordedWith() async throws {
        let engine = Engine()
        let attempts = Counter()
        engine.register(route: "/app/flaky") { input, _ in
            if attempts.next() == 1 { throw StepError(code: "FLAKY", message: "first attempt fails") }
            return input
        }
        let document: JSON = [
            "inputSchema": Self.userSchema,
            "steps": [["id": "flaky", "component": "/app/flaky", "input": ["greeting": ["$input": "greeting"]]]],
            "output": ["$step": "flaky", "path": "greeting"],
        ]
        let directory = try temporaryDirectory(containing: ["flow.json": document.serialized()])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let flow = try Flow(contentsOfFile: directory + "/flow.json")
        let store = InMemoryRunStore()
        let first = await engine.run(flow, input: ["user": ["age": 3]], options: RunOptions(runID: "flaky-run", store: store))
        #expect(first.status == .failed)
        let record = try #require(try store.run(id: "flaky-run"))
        #expect(record.input == ["user": ["age": 3], "greeting": "hello", "options": ["loud": false]])
        let resumed = try await engine.resume(runID: "flaky-run", store: store)
        #expect(resumed.status == .success)
        #expect(resumed.output == "hello")
        #expect(resumed.input == record.input)
    }

    @Test func eachBatchItemIsCheckedOnItsOwn() async throws {
        let (engine, flow, calls) = try userFlow()
        let batch = await engine.runBatch(flow, inputs: [["user": ["age": 1]], ["user": ["age": "two"]], ["user": ["age": 3]]])
        #expect(batch.items.map(\.result.status) == [.success, .failed, .success])
        #expect(batch.items[1].result.error?.code == "INVALID_INPUT")
        #expect(batch.items[1].result.error?.message.contains("input.user.age") == true)
        #expect(batch.items[0].result.output?["greeting"] == "hello")
        #expect(calls.current == 2)
    }

    @Test func anInvalidInputSchemaMakesTheFlowInvalid() async throws {
        let engine = Engine()
        engine.register(route: "/app/echo") { input, _ in input }
        let flow = try Flow(document: [
            "inputSchema": ["type": "object", "properties": ["n": ["minimum": "three"]]],
            "steps": [["id": "echo", "component": "/app/echo"]],
            "output": ["$step": "echo"],
        ])
        let result = await engine.run(flow, input: ["n": 1])
        #expect(result.error?.code == "INVALID_FLOW")
        #expect(result.error?.message.contains("inputSchema") == true)
        let error = #expect(throws: FlowError.self) { try engine.validate(flow) }
        #expect(error?.field == "inputSchema")
        #expect(error?.message.contains("#/properties/n/minimum") == true, "\(error?.message ?? "")")
    }

    @Test func aSubflowStepFailsWhenItsInputDoesNotMatchTheSubflowsSchema() async throws {
        let directory = try temporaryDirectory(containing: [
            "inner.yaml": """
                inputSchema: { type: object, properties: { n: { type: integer } }, required: [n] }
                steps: []
                output: { $input: n }
                """,
            "outer.yaml": """
                steps:
                  - { id: sub, flow: inner.yaml, input: { n: { $input: n } } }
                output: { $step: sub }
                """,
            "constant.yaml": """
                steps:
                  - { id: sub, flow: inner.yaml, input: { n: four } }
                output: { $step: sub }
                """,
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let flow = try Flow(contentsOfFile: directory + "/outer.yaml")
        let engine = Engine()
        let good = await engine.run(flow, input: ["n": 4])
        #expect(good.output == 4)
        let bad = await engine.run(flow, input: ["n": "four"])
        #expect(bad.status == .failed)
        #expect(bad.step("sub")?.error?.code == "INVALID_INPUT")
        #expect(bad.step("sub")?.error?.message.contains("input.n: expected an integer") == true, "\(bad.step("sub")?.error?.message ?? "")")
        // Statically too: the sub-flow's input schema is the step's.
        let constant = try Flow(contentsOfFile: directory + "/constant.yaml")
        let error = #expect(throws: FlowError.self) { try engine.validate(constant) }
        #expect(error?.step == "sub")
        #expect(error?.field == "input.n")
        #expect(error?.message.contains("the input schema of sub-flow inner.yaml") == true, "\(error?.message ?? "")")
    }

    // MARK: Each step's input, before its call

    @Test func aNodeInputThatDoesNotMatchItsSchemaFailsTheStepBeforeTheCall() async throws {
        let engine = try Self.stdEngine()
        let flow = try Flow(yaml: """
            steps:
              - { id: inc, component: /std/increment, input: { value: { $input: v } } }
            output: { $step: inc, path: value }
            """)
        let good = await engine.run(flow, input: ["v": 1])
        #expect(good.output == 2)
        let bad = await engine.run(flow, input: ["v": "one"])
        #expect(bad.status == .failed)
        let error = try #require(bad.step("inc")?.error)
        #expect(error.code == "INVALID_INPUT")
        #expect(error.message.contains("step 'inc'"), "\(error.message)")
        #expect(error.message.contains("input.value: expected a number, got string \"one\""), "\(error.message)")
        #expect(error.message.contains("org.nodal.std.increment"), "\(error.message)")
        #expect(error.details?["violations"]?[0]?["field"] == "input.value")
        #expect(bad.step("inc")?.attempts == 1)
        #expect(bad.error?.steps.first?.code == "INVALID_INPUT")
    }

    @Test func onErrorAppliesToAnInputThatDoesNotMatch() async throws {
        let engine = try Self.stdEngine()
        let flow = try Flow(yaml: """
            steps:
              - id: inc
                component: /std/increment
                input: { value: { $input: v } }
                onError: { action: useDefault, defaultValue: { value: -1 } }
              - id: pooled
                component: /std/increment_pooled
                input: { value: { $input: v } }
                onError: { action: continue }
            output: { a: { $step: inc, path: value }, b: { $coalesce: [{ $step: pooled, path: value }, none] } }
            """)
        let result = await engine.run(flow, input: ["v": "x"])
        #expect(result.step("inc")?.status == .success)
        #expect(result.output?["a"] == -1)
        #expect(result.step("pooled")?.status == .failed)
        #expect(result.step("pooled")?.error?.code == "INVALID_INPUT")
        #expect(result.output?["b"] == "none")
    }

    @Test func swiftNodesAndBuiltinsWithSchemasAreCheckedToo() async throws {
        let engine = Engine()
        let calls = Counter()
        engine.register(route: "/app/square", inputSchema: ["type": "object", "required": ["n"]]) { input, _ in
            _ = calls.next()
            let n = input["n"]?.intValue ?? 0
            return ["n": .int(n * n)]
        }
        let flow = try Flow(yaml: """
            steps:
              - { id: square, component: /app/square, input: { m: { $input: m } } }
            output: { $step: square }
            """)
        let result = await engine.run(flow, input: ["m": 3])
        #expect(result.step("square")?.error?.code == "INVALID_INPUT")
        #expect(result.step("square")?.error?.message.contains("input.n: missing required property 'n'") == true)
        #expect(calls.current == 0)
        let alone = try Flow(yaml: """
            steps:
              - { id: messages, component: /builtin/create_messages, input: { user_prompt: { $input: prompt } } }
            output: { $step: messages }
            """)
        let builtin = await engine.run(alone, input: ["prompt": 42])
        #expect(builtin.step("messages")?.error?.code == "INVALID_INPUT")
        #expect(builtin.step("messages")?.error?.message.contains("input.user_prompt: expected a string, got number 42") == true)
        #expect(await engine.run(alone, input: ["prompt": "hi"]).status == .success)
    }

    // MARK: Outputs, in strict mode

    @Test func strictOutputsCheckNodeOutputs() async throws {
        let engine = Engine()
        engine.register(route: "/app/liar", outputSchema: ["type": "object", "properties": ["count": ["type": "integer"]], "required": ["count"]]) { _, _ in
            ["count": "many"]
        }
        let flow = try Flow(yaml: """
            steps:
              - { id: liar, component: /app/liar }
            output: { $step: liar }
            """)
        let lenient = await engine.run(flow, input: [:])
        #expect(lenient.status == .success, "off by default")
        #expect(lenient.output == ["count": "many"])
        let strict = await engine.run(flow, input: [:], options: RunOptions(strictOutputs: true))
        #expect(strict.status == .failed)
        let error = try #require(strict.step("liar")?.error)
        #expect(error.code == "INVALID_OUTPUT")
        #expect(error.message.contains("step 'liar'"), "\(error.message)")
        #expect(error.message.contains("output.count: expected an integer, got string \"many\""), "\(error.message)")
    }

    @Test func strictOutputsCheckNonBlockingNativeNodesAndTheFlowOutput() async throws {
        let engine = try Self.stdEngine()
        let flow = try Flow(document: [
            "outputSchema": ["type": "object", "properties": ["total": ["type": "string"]]],
            "steps": [["id": "inc", "component": "/std/increment", "input": ["value": 1]]],
            "output": ["total": ["$step": "inc", "path": "value"]],
        ])
        let lenient = await engine.run(flow, input: [:])
        #expect(lenient.status == .success)
        let strict = await engine.run(flow, input: [:], options: RunOptions(strictOutputs: true))
        #expect(strict.status == .failed)
        #expect(strict.step("inc")?.status == .success, "the node's output matches its schema")
        #expect(strict.error?.code == "INVALID_OUTPUT")
        #expect(strict.error?.message.contains("output.total: expected a string, got number 2") == true, "\(strict.error?.message ?? "")")
    }

    // MARK: The static check (Engine.validate)

    @Test func validateFindsAConstantOfTheWrongType() throws {
        let engine = try Self.stdEngine()
        let flow = try Flow(yaml: """
            steps:
              - { id: inc, component: /std/increment, input: { value: "one" } }
            output: { $step: inc }
            """)
        let error = #expect(throws: FlowError.self) { try engine.validate(flow) }
        #expect(error?.step == "inc")
        #expect(error?.field == "input.value")
        #expect(error?.message.contains("expected a number, got string \"one\"") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("org.nodal.std.increment") == true)
    }

    @Test func validateFindsAFlowInputOfTheWrongType() throws {
        let engine = try Self.stdEngine()
        let flow = try Flow(yaml: """
            inputSchema: { type: object, properties: { label: { type: string }, n: { type: integer } } }
            steps:
              - { id: inc, component: /std/increment, input: { value: { $input: label } } }
              - { id: fine, component: /std/increment, input: { value: { $input: n } } }
            output: { $step: inc }
            """)
        let error = #expect(throws: FlowError.self) { try engine.validate(flow) }
        #expect(error?.step == "inc")
        #expect(error?.field == "input.value")
        #expect(error?.message.contains("expected a number, got a string ($.label in the flow's input schema)") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("also") == false, "an integer is a number: 'fine' is fine")
    }

    @Test func validateFindsAMissingRequiredField() throws {
        let engine = try Self.stdEngine()
        let flow = try Flow(yaml: """
            steps:
              - { id: sum, component: /std/add, input: { a: 1, c: { $variable: c } } }
            output: { $step: sum }
            """)
        let error = #expect(throws: FlowError.self) { try engine.validate(flow) }
        #expect(error?.step == "sum")
        #expect(error?.field == "input.b")
        #expect(error?.message.contains("missing required property 'b'") == true)
    }

    @Test func validateFollowsStepOutputSchemas() throws {
        let engine = try Self.stdEngine()
        let flow = try Flow(yaml: """
            steps:
              - { id: len, component: /std/length, input: { text: abc } }
              - { id: shout, component: /std/upper, input: { text: { $step: len, path: length } } }
              - { id: more, component: /std/increment, input: { value: { $step: len, path: length } } }
            output: { $step: shout }
            """)
        let error = #expect(throws: FlowError.self) { try engine.validate(flow) }
        #expect(error?.step == "shout")
        #expect(error?.field == "input.text")
        #expect(error?.message.contains("expected a string, got an integer ($.length in the output schema of step 'len'") == true, "\(error?.message ?? "")")
    }

    @Test func validateFindsAReadOfWhatTheSchemaForbids() throws {
        let engine = try Self.stdEngine()
        let flow = try Flow(yaml: """
            inputSchema: { type: object, properties: { a: { type: number } }, additionalProperties: false }
            steps:
              - { id: inc, component: /std/increment, input: { value: { $input: b } } }
            output: { $step: inc }
            """)
        let error = #expect(throws: FlowError.self) { try engine.validate(flow) }
        #expect(error?.step == "inc")
        #expect(error?.field == "input.value")
        #expect(error?.message.contains("reads $.b of the run's input, and the flow's input schema allows nothing there") == true, "\(error?.message ?? "")")
    }

    @Test func validateChecksTheFlowOutputAgainstItsSchema() throws {
        let engine = try Self.stdEngine()
        let flow = try Flow(yaml: """
            outputSchema: { type: object, required: [total, label] }
            steps:
              - { id: inc, component: /std/increment, input: { value: 1 } }
            output: { total: { $step: inc, path: value } }
            """)
        let error = #expect(throws: FlowError.self) { try engine.validate(flow) }
        #expect(error?.step == nil)
        #expect(error?.field == "output.label")
    }

    @Test func whatIsNotKnownBeforeTheRunIsNotAnError() throws {
        let engine = try Self.stdEngine()
        // No input schema, a variable, a branch, a value only a run can tell: all left to the run.
        let flow = try Flow(yaml: """
            inputSchema: { type: object, properties: { n: { type: number }, s: { enum: [a, b] } } }
            steps:
              - { id: a, component: /std/increment, input: { value: { $input: anything } } }
              - { id: b, component: /std/increment, input: { value: { $variable: v, default: 1 } } }
              - { id: c, component: /std/increment, input: { value: { $if: { $input: n }, then: 1, else: 2 } } }
              - { id: d, component: /std/increment, input: { value: { $input: n } } }
              - { id: e, component: /std/echo, input: { $input: s } }
            output: [{ $step: a }, { $step: b }, { $step: c }, { $step: d }, { $step: e }]
            """)
        try engine.validate(flow)
        #expect(engine.warnings(for: flow).isEmpty)
    }

    @Test func aFlowWithoutOutputIsAWarningNotAnError() throws {
        let engine = try Self.stdEngine()
        let flow = try Flow(yaml: """
            steps:
              - { id: inc, component: /std/increment, input: { value: 1 }, mustExecute: true }
            """)
        try engine.validate(flow)
        let warnings = engine.warnings(for: flow)
        #expect(warnings.count == 1)
        #expect(warnings.first?.field == "output")
        #expect(warnings.first?.description.contains("no 'output'") == true)
    }

    @Test func aDeclaredSchemaThatDoesNotCompileIsAWarning() throws {
        let engine = Engine()
        engine.register(route: "/app/odd", inputSchema: ["type": "text"]) { input, _ in input }
        let flow = try Flow(yaml: """
            steps:
              - { id: odd, component: /app/odd, input: { x: 1 } }
            output: { $step: odd }
            """)
        try engine.validate(flow)
        let warnings = engine.warnings(for: flow)
        #expect(warnings.first?.step == "odd")
        #expect(warnings.first?.message.contains("not a valid JSON Schema") == true, "\(warnings)")
    }
}

/// The static check in NodalJSON, on values known in part.
@Suite struct StaticSchemaCheckTests {
    let schema = try! JSONSchema([
        "type": "object",
        "properties": [
            "id": ["type": "integer"],
            "tags": ["type": "array", "items": ["type": "string"], "maxItems": 2],
            "meta": ["type": "object", "additionalProperties": false, "properties": ["a": ["type": "string"]]],
        ],
        "required": ["id", "tags"],
    ])

    func described(_ document: JSON, _ path: String = "$") throws -> StaticValue {
        let source = try JSONSchema(document)
        let sub = try #require(source.root.descendant(try JSONPath(path).segments))
        return .described(sub, origin: StaticOrigin(schema: "the test schema", path: try JSONPath(path)))
    }

    @Test func constantsGetEveryViolation() {
        let violations = schema.staticViolations(of: .known(["id": "x", "tags": [1]]))
        #expect(violations.map(\.instanceLocation) == ["$.id", "$.tags[0]"])
    }

    @Test func partsKnownAndUnknown() throws {
        let value = StaticValue.object([
            ("tags", .array([.unknown, .known(3), .unknown])),
            ("meta", .object([("b", .unknown), ("a", .unknown)])),
        ])
        let violations = schema.staticViolations(of: value)
        #expect(violations.map(\.instanceLocation).sorted() == ["$", "$.meta.b", "$.tags", "$.tags[1]"])
        #expect(violations.first { $0.instanceLocation == "$" }?.property == "id")
        #expect(violations.first { $0.instanceLocation == "$" }?.field(under: "input") == "input.id")
    }

    @Test func describedValuesAreComparedByType() throws {
        let integerID = StaticValue.object([("id", try described(["type": "integer"])), ("tags", .unknown)])
        #expect(schema.staticViolations(of: integerID).isEmpty)
        // A number may be an integer: not an error before the run.
        let numberID = StaticValue.object([("id", try described(["type": "number"])), ("tags", .unknown)])
        #expect(schema.staticViolations(of: numberID).isEmpty)
        let stringID = StaticValue.object([("id", try described(["type": "string"])), ("tags", .unknown)])
        #expect(schema.staticViolations(of: stringID).map(\.message) == ["expected an integer, got a string ($ in the test schema)"])
        let constant = StaticValue.object([("id", try described(["const": "x"])), ("tags", .unknown)])
        #expect(schema.staticViolations(of: constant).count == 1)
        // Members of a described object, and items of a described array, by their declared schemas.
        let whole = try described([
            "type": "object",
            "properties": ["id": ["$ref": "#/$defs/text"], "tags": ["type": "array", "items": ["type": "boolean"]]],
            "$defs": ["text": ["type": "string"]],
        ])
        #expect(schema.staticViolations(of: whole).map(\.instanceLocation) == ["$.id", "$.tags[0]"])
        // A described object that cannot have a required member.
        let closed = try described(["type": "object", "properties": ["tags": [:]], "additionalProperties": false])
        #expect(schema.staticViolations(of: closed).map(\.property) == ["id"])
        // One that may not have it is left to the run.
        let open = try described(["type": "object", "properties": ["tags": [:]]])
        #expect(schema.staticViolations(of: open).isEmpty)
    }

    @Test func descendantsFollowPropertiesItemsAndReferences() throws {
        let source = try JSONSchema([
            "properties": ["list": ["$ref": "#/$defs/list"]],
            "patternProperties": ["^x-": ["type": "string"]],
            "additionalProperties": false,
            "$defs": ["list": ["prefixItems": [["type": "null"]], "items": ["type": "boolean"]]],
        ])
        #expect(source.root.descendant(try JSONPath("$.list[0]").segments)?.location == "#/$defs/list/prefixItems/0")
        #expect(source.root.descendant(try JSONPath("$.list[5]").segments)?.location == "#/$defs/list/items")
        #expect(source.root.descendant(try JSONPath("$['x-a']").segments)?.location == "#/patternProperties/^x-")
        #expect(source.root.descendant(try JSONPath("$.other").segments)?.admitsNothing == true)
        #expect(source.root.descendant(try JSONPath("$.list[*]").segments) == nil)
    }
}
