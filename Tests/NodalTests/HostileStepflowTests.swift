import Foundation
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
import NodalTestSupport

/// Issue 12, hostile trial: what a hostile flow, configuration or input did to the Stepflow
/// compatibility work (unknown-key warnings, blob ids and numbers, schemas, `nodal test`'s
/// configuration discovery), each kept as a regression test.
@Suite struct HostileStepflowTests {
    // MARK: Unknown-key warnings

    /// Keys and ids holding terminal escapes, carriage returns or newlines were printed raw in
    /// warnings and errors: a flow could colour or rewrite the terminal, or forge a line that reads
    /// as another warning.
    @Test func keysAndIdsWithControlCharactersAreShownEscaped() throws {
        let text = """
            steps:
              - id: "a\\e[2J"
                component: /builtin/noop
                "\\e[31mRED\\e[0m\\nwarning: fake": 1
            output: 1
            "\\abell\\rX\\0": 2
            """
        let flow = try Flow(yaml: text, file: "f.yaml")
        let warnings = flow.warnings.map(\.description)
        #expect(warnings.count == 2, "\(warnings)")
        for warning in warnings {
            #expect(!warning.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(warning.debugDescription)")
        }
        #expect(warnings.contains { $0.hasPrefix("f.yaml:6: field '\\u{7}bell\\rX\\u{0}': unknown flow key") }, "\(warnings)")
        #expect(warnings.contains {
            $0.hasPrefix("f.yaml:4: step 'a\\u{1B}[2J', field '\\u{1B}[31mRED\\u{1B}[0m\\nwarning: fake': unknown step key")
        }, "\(warnings)")
        // Refused the same way under --strict.
        #expect {
            _ = try Flow(yaml: text, file: "f.yaml", strict: true)
        } throws: { error in
            let text = (error as? FlowError)?.description ?? ""
            return text.contains("\\u{7}bell\\rX\\u{0}") && !text.unicodeScalars.contains { $0.value < 0x20 }
        }
        // And in any error naming a step or field, and in the keys a non-flow document shows.
        let error = FlowError(file: "f\u{1B}.yaml", step: "s\u{202E}x", field: "k\r", "line one\nline two\u{7}")
        #expect(error.description == "f\\u{1B}.yaml, step 's\\u{202E}x', field 'k\\r': line one\nline two\\u{7}")
        #expect {
            _ = try Flow(yaml: "\"x\\e[1m\": 1", file: "n.yaml")
        } throws: { error in
            let text = (error as? FlowError)?.description ?? ""
            return text.contains("its keys: x\\u{1B}[1m") && !text.contains("\u{1B}")
        }
    }

    /// Placing each unknown key's warning on its line searched the whole mapping for each key:
    /// 5,000 unknown keys took 7.6 s of CPU to read, 20,000 took 120 s. Now each mapping is indexed
    /// once. Measured in CPU time of this thread (reading a flow does not suspend), as the ratio
    /// between two sizes, so the machine's speed does not matter: 8 times the keys cost about 8
    /// times the time now, and 64 times before.
    @Test func placingManyUnknownKeysOnTheirLinesTakesLinearTime() throws {
        func flowText(_ keys: Int) -> String {
            "steps: [{ id: s, component: /builtin/noop, input: 1 }]\noutput: 1\n"
                + (0..<keys).map { "k\($0): 1\n" }.joined()
        }
        func cpuSeconds(_ body: () throws -> Void) rethrows -> Double {
            var start = timespec()
            var end = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
            try body()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
            return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        }
        let small = flowText(2_000)
        let large = flowText(16_000)
        var lines: [Int?] = []
        _ = try Flow(yaml: small)  // warm up
        let smallTime = try cpuSeconds { _ = try Flow(yaml: small) }
        let largeTime = try cpuSeconds { lines = try Flow(yaml: large).warnings.map(\.line) }
        #expect(lines.count == 16_000 && lines.first == 3 && lines.last == 16_002)
        #expect(largeTime < max(smallTime, 0.01) * 24, "2,000 keys: \(smallTime) s, 16,000 keys: \(largeTime) s")
    }

    // MARK: Numbers

    /// JSON text with a number too large for a double (`1e400`) was read as infinity, which no
    /// JSON text can hold: it printed as null, so `--input '{"y": 1e400}'` ran with y "null" to
    /// the printer but a number to schemas (`type: number` passed, `type: null` failed), and a
    /// store gave back null on resume. Stepflow's serde_json refuses such text.
    @Test func jsonNumbersTooLargeForADoubleAreRefused() throws {
        for text in ["1e400", "-1e400", "[1, 2e308]", "{\"y\": 1E+999}", String(repeating: "9", count: 400)] {
            #expect(throws: JSONParseError.self, "\(text)") { _ = try JSON(parsing: text) }
        }
        do {
            _ = try JSON(parsing: "{\"y\": 1e400}")
        } catch {
            #expect(error.offset == 6 && error.reason.hasPrefix("number out of range: 1e400"), "\(error)")
        }
        // What does fit is read as before; a number too small for a double is 0, as in serde_json.
        #expect(try JSON(parsing: "1e-400") == .double(0))
        #expect(try JSON(parsing: "1.7976931348623157e308") == .double(.greatestFiniteMagnitude))
        #expect(try JSON(parsing: "99999999999999999999999") == .double(1e23))
    }

    /// Removing a key from a big object rebuilt its whole key table, so deleting every key of
    /// an object one by one was quadratic even from the end (20,000 keys: 2 * 10^8 hash
    /// insertions). A removal now costs the entries after it, as `Array.remove(at:)` does. Measured
    /// in this thread's CPU time, as a ratio between two sizes (linear: about 8; before: about 64).
    @Test func deletingKeysFromTheEndOfABigObjectTakesLinearTime() throws {
        func cpuSeconds(_ body: () -> Void) -> Double {
            var start = timespec()
            var end = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
            body()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
            return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        }
        func deletingAll(_ count: Int) -> Double {
            var object = JSONObject()
            for index in 0..<count { object["k\(index)"] = .int(index) }
            let time = cpuSeconds {
                for index in stride(from: count - 1, through: 0, by: -1) { object["k\(index)"] = nil }
            }
            #expect(object.isEmpty)
            return time
        }
        _ = deletingAll(1_000)  // warm up
        let small = deletingAll(4_000)
        let large = deletingAll(32_000)
        #expect(large < max(small, 0.002) * 24, "4,000 keys: \(small) s, 32,000 keys: \(large) s")

        // Lookups stay right through removals anywhere, down past the indexing threshold.
        var object = JSONObject()
        var reference: [String] = []
        for index in 0..<200 {
            object["k\(index)"] = .int(index)
            reference.append("k\(index)")
        }
        var generator = SystemRandomNumberGenerator()
        while !reference.isEmpty {
            let key = reference.remove(at: Int.random(in: 0..<reference.count, using: &generator))
            object[key] = nil
            #expect(object.keys == reference)
            for (position, name) in reference.enumerated().prefix(20) {
                #expect(object[name] == .int(Int(name.dropFirst())!), "\(name) at \(position)")
            }
            #expect(object[key] == nil)
        }
    }

    /// A schema bound YAML reads as infinity (`minimum: 1e400`, `.inf`) was refused as "minimum
    /// must be a number, got number".
    @Test func schemaBoundsThatAreNotFiniteAreNamedAsSuch() throws {
        for (keyword, value) in [("minimum", JSON.double(.infinity)), ("exclusiveMaximum", .double(-.infinity)),
                                 ("multipleOf", .double(.infinity))] {
            #expect {
                _ = try JSONSchema(["type": "object", "properties": ["y": [keyword: value]]])
            } throws: { error in
                let error = error as? JSONSchemaError
                return error?.schemaLocation == "#/properties/y/\(keyword)"
                    && error?.reason.contains("must be a finite number") == true
                    && error?.reason.contains("got \(value.doubleValue!)") == true
            }
        }
        #expect {
            _ = try JSONSchema(["minimum": "3"])
        } throws: { error in (error as? JSONSchemaError)?.reason == "minimum must be a number, got string \"3\"" }
        let flow = try Flow(yaml: """
            inputSchema: { type: object, properties: { y: { minimum: 1e400 } } }
            steps: []
            output: 1
            """, file: "bound.yaml")
        #expect {
            _ = try flow.compiledInputSchema()
        } throws: { error in
            (error as? FlowError)?.description.hasSuffix("minimum must be a finite number, got inf") == true
        }
    }

    /// A NaN (YAML's `.nan`: in a test case's input, a literal step input, the flow's output)
    /// checked against an integer bound crashed the process: `nodal test`, `validate` and `run`
    /// ended with SIGILL converting NaN to an integer. NaN now keeps no bound.
    @Test func nanCheckedAgainstNumericBoundsFailsInsteadOfCrashing() async throws {
        for (keyword, limit) in [("minimum", JSON.int(0)), ("maximum", .int(0)), ("exclusiveMinimum", .int(0)),
                                 ("exclusiveMaximum", .double(0.5)), ("minimum", .double(-1e300)), ("multipleOf", .int(1))] {
            let schema = try JSONSchema([keyword: limit])
            #expect(!schema.isValid(.double(.nan)), "\(keyword)")
            let violations = schema.validate(.double(.nan))
            #expect(violations.count == 1 && violations[0].message.hasSuffix("got nan"), "\(keyword): \(violations)")
        }
        // Infinities compare as the numbers they are.
        #expect(try JSONSchema(["maximum": 5]).isValid(.double(-.infinity)))
        #expect(!(try JSONSchema(["maximum": 5]).isValid(.double(.infinity))))

        let flow = try Flow(yaml: """
            inputSchema: { type: object, properties: { x: { minimum: 0 } } }
            outputSchema: { maximum: 10 }
            steps: []
            output: .nan
            test:
              cases:
                - { name: nan, input: { x: .nan }, output: { outcome: success } }
            """, file: "nan.yaml")
        let engine = Engine()
        #expect {
            try engine.validate(flow)
        } throws: { error in
            (error as? FlowError)?.description == "nan.yaml, field 'output': expected at most 10, got nan, against the flow's output schema at #/maximum"
        }
        let result = await engine.run(flow, input: try #require(flow.testCases.first?.input))
        #expect(result.error?.code == "INVALID_INPUT")
        #expect(result.error?.message.hasSuffix("input.x: expected at least 0, got nan") == true, "\(result.error?.message ?? "")")
        await engine.shutdown()
    }

    /// `nodal run --inputs-file F --max-concurrency 9223372036854775807` (or
    /// `BatchOptions(maxConcurrency: .max)` streaming in input order) crashed on the overflow of
    /// its reorder window.
    @Test func aStreamedBatchWithoutAConcurrencyLimitRuns() async throws {
        let flow = try Flow(yaml: "steps: []\noutput: { $input: $ }")
        let engine = Engine()
        for concurrency in [Int.max, Int.max / 4 + 1, Int.max - 1] {
            let (inputs, feed) = AsyncStream.makeStream(of: JSON.self)
            for index in 0..<3 { feed.yield(.int(index)) }
            feed.finish()
            let outputs = Mutex<[JSON]>([])
            let counts = await engine.runBatch(flow, inputs: inputs, options: BatchOptions(maxConcurrency: concurrency, order: .input)) { item in
                outputs.withLock { $0.append(item.result.output ?? .null) }
            }
            #expect(counts.succeeded == 3)
            #expect(outputs.withLock { $0 } == [0, 1, 2])
        }
        await engine.shutdown()
    }

    // MARK: Schemas

    /// Compiled schemas were cached by `JSON`'s `==`, which ignores key order, equates canonically
    /// equivalent strings and rounds integers to doubles. A flow whose schema differed from one
    /// compiled earlier in the process only in those ways got the earlier one: its defaults filled
    /// in the other flow's key order (so its input, and blob ids made of it, depended on which flow
    /// ran first), and its `const` compared with the other flow's string.
    @Test func schemasEqualOnlyAsJSONValuesAreCompiledApart() async throws {
        let tag = "p" + UUID().uuidString.prefix(8)  // the cache is the process's: keep these apart
        let first = try Flow(yaml: """
            inputSchema: { type: object, properties: { \(tag)a: { default: 1 }, \(tag)b: { default: 2 } } }
            steps: []
            output: { $input: $ }
            """)
        let second = try Flow(yaml: """
            inputSchema: { type: object, properties: { \(tag)b: { default: 2 }, \(tag)a: { default: 1 } } }
            steps: []
            output: { $input: $ }
            """)
        let engine = Engine()
        let one = await engine.run(first, input: [:])
        let two = await engine.run(second, input: [:])
        #expect(one.output?.objectValue?.keys == ["\(tag)a", "\(tag)b"])
        #expect(two.output?.objectValue?.keys == ["\(tag)b", "\(tag)a"])

        // "é" written as one code point, then as e and a combining accent: different constants.
        let composed = try Flow(document: [
            "inputSchema": ["type": "object", "properties": [tag: ["const": "\u{E9}"]]], "steps": [], "output": 1,
        ])
        let decomposed = try Flow(document: [
            "inputSchema": ["type": "object", "properties": [tag: ["const": "e\u{301}"]]], "steps": [], "output": 1,
        ])
        #expect(await engine.run(composed, input: [tag: "\u{E9}"]).status == .success)
        let result = await engine.run(decomposed, input: [tag: "e\u{301}"])
        #expect(result.status == .success, "\(result.error?.message ?? "")")
        #expect(await engine.run(decomposed, input: [tag: "\u{E9}"]).error?.code == "INVALID_INPUT")

        // 2^53 + 1 and the double it rounds to are different constants too.
        let integer = try Flow(document: [
            "inputSchema": ["properties": [tag: ["const": .int(9_007_199_254_740_993)]]], "steps": [], "output": 1,
        ])
        let double = try Flow(document: [
            "inputSchema": ["properties": [tag: ["const": .double(9_007_199_254_740_992)]]], "steps": [], "output": 1,
        ])
        #expect(await engine.run(integer, input: [tag: .int(9_007_199_254_740_993)]).status == .success)
        #expect(await engine.run(double, input: [tag: .int(9_007_199_254_740_992)]).status == .success)
        await engine.shutdown()
    }

    /// Defaults through a shared definition grew as a factorial: seven properties whose schemas
    /// `$ref` one definition with `default: {}` filled a 2.6 MB input into every run of the flow,
    /// nine took a minute and 400 MB. A definition is now filled once along a chain of defaults,
    /// whichever property reached it.
    @Test func defaultsThroughASharedDefinitionAreFilledOnceAlongAChain() async throws {
        var properties = JSONObject()
        for index in 0..<7 { properties["p\(index)"] = ["$ref": "#/$defs/node", "default": [:]] }
        let schema = try JSONSchema([
            "$defs": ["node": ["type": "object", "properties": .object(properties)]],
            "properties": ["root": ["$ref": "#/$defs/node", "default": [:]]],
        ])
        var expected = JSONObject()
        for index in 0..<7 { expected["p\(index)"] = [:] }
        #expect(schema.applyingDefaults(to: [:]) == ["root": .object(expected)])
        // What the caller wrote is still followed as deep as it goes; below it, one level of
        // defaults is filled, as for a schema that refers to itself.
        let written = schema.applyingDefaults(to: ["root": ["p0": ["p1": [:]]]])
        #expect(written["root"]?["p0"]?["p1"]?["p2"] == .object(expected))
        #expect(written["root"]?["p0"]?["p1"]?["p2"]?["p3"] == [:])
    }

    /// Stepflow's consolidated `schemas` share definitions that the input and output schemas
    /// refer to as `#/schemas/$defs/NAME`, a pointer from the flow's root. Nodal compiled the input
    /// schema on its own, so such a flow was refused ("$ref '#/schemas/$defs/Name' points to
    /// nothing in the document"): a Stepflow flow that did not run unchanged.
    @Test func stepflowsSharedSchemaDefinitionsResolve() async throws {
        let flow = try Flow(yaml: """
            schemas:
              type: object
              $defs:
                Name: { type: string, minLength: 1 }
                Person: { type: object, required: [name], properties: { name: { $ref: "#/schemas/$defs/Name" } } }
              properties:
                input: { type: object, required: [who], properties: { who: { $ref: "#/schemas/$defs/Person" } } }
                output: { $ref: "#/schemas/$defs/Name" }
            steps: []
            output: { $input: who.name }
            """, file: "shared.yaml")
        let engine = Engine()
        try engine.validate(flow)
        #expect(await engine.run(flow, input: ["who": ["name": "Ada"]]).output == "Ada")
        let refused = await engine.run(flow, input: ["who": ["name": ""]])
        #expect(refused.error?.code == "INVALID_INPUT")
        #expect(refused.error?.message.hasSuffix("input.who.name: expected at least 1 character, got 0") == true, "\(refused.error?.message ?? "")")
        let strict = await engine.run(flow, input: ["who": ["name": "Ada"]], options: RunOptions(strictOutputs: true))
        #expect(strict.status == .success, "\(strict.error?.message ?? "")")

        // A schema under `schemas` with definitions of its own, referred to from itself, reads as before.
        let local = try Flow(yaml: """
            schemas:
              type: object
              properties:
                input: { $defs: { N: { type: integer } }, type: object, properties: { n: { $ref: "#/$defs/N" } } }
            steps: []
            output: { $input: n }
            """)
        #expect(await engine.run(local, input: ["n": 2]).output == 2)
        #expect(await engine.run(local, input: ["n": "2"]).error?.code == "INVALID_INPUT")
        await engine.shutdown()
    }

    /// A step's own schema that refers to the flow's shared definitions was refused the same way
    /// ("not a valid JSON Schema ... points to nothing"); a NaN checked against it read as
    /// "got number null".
    @Test func stepSchemasReachTheFlowsSharedDefinitions() async throws {
        let flow = try Flow(yaml: """
            schemas: { $defs: { Word: { type: string, minLength: 2 } } }
            steps:
              - { id: a, component: /builtin/noop, input: { $input: w }, inputSchema: { $ref: "#/schemas/$defs/Word" } }
            output: { $step: a }
            """, file: "steps.yaml")
        let engine = Engine()
        try engine.validate(flow)
        #expect(await engine.run(flow, input: ["w": "ok"]).output == "ok")
        let short = await engine.run(flow, input: ["w": "x"])
        #expect(short.error?.code == "INVALID_INPUT")
        #expect(short.error?.message.contains("expected at least 2 characters, got 1") == true, "\(short.error?.message ?? "")")
        let nan = try Flow(yaml: """
            schemas: { $defs: { Word: { type: string } } }
            steps:
              - { id: a, component: /builtin/noop, input: .nan, inputSchema: { $ref: "#/schemas/$defs/Word" } }
            output: { $step: a }
            """, file: "nan.yaml")
        #expect {
            try engine.validate(nan)
        } throws: { error in
            (error as? FlowError)?.description
                == "nan.yaml, step 'a', field 'input': expected a string, got number nan, against the input schema of step 'a' at #/schemas/$defs/Word/type"
        }
        await engine.shutdown()
    }

    /// A default that does not match its own schema passed `nodal validate` silently, and every
    /// run that left the field out was refused with "input.n: expected an integer, got string",
    /// blaming the caller for a value the flow supplied.
    @Test func aDefaultThatDoesNotMatchItsSchemaIsNamed() async throws {
        let flow = try Flow(yaml: """
            inputSchema:
              type: object
              properties:
                n: { type: integer, default: "not an int" }
                m: { $ref: "#/$defs/small", default: 5 }
                ok: { type: string, default: "fine" }
              $defs: { small: { maximum: 3 } }
            steps: []
            output: { $input: $ }
            """, file: "defaults.yaml")
        let engine = Engine()
        let warnings = engine.warnings(for: flow).map(\.description)
        #expect(warnings.contains(
            "defaults.yaml: field 'inputSchema': the default at #/properties/n/default does not match its own schema (expected an integer, got string \"not an int\"), so a run that leaves the field out is refused"),
            "\(warnings)")
        #expect(warnings.contains { $0.contains("the default at #/properties/m/default does not match its own schema (expected at most 3, got 5)") }, "\(warnings)")
        #expect(warnings.count == 2, "\(warnings)")
        let result = await engine.run(flow, input: [:])
        #expect(result.error?.code == "INVALID_INPUT")
        #expect(result.error?.message.hasPrefix("the run's input matches the flow's input schema, but not with the schema's defaults filled in") == true,
                "\(result.error?.message ?? "")")
        // A caller's own wrong value is still the caller's.
        let wrong = await engine.run(flow, input: ["n": 1, "m": 9])
        #expect(wrong.error?.message.hasPrefix("the run's input does not match the flow's input schema: input.m: expected at most 3, got 9") == true,
                "\(wrong.error?.message ?? "")")
        #expect(await engine.run(flow, input: ["n": 1, "m": 2]).output == ["n": 1, "m": 2, "ok": "fine"])
        await engine.shutdown()
    }

    // MARK: Flows inside steps

    /// A timeout on a map step reaches sleeps two flows down (map, iterate, eval, sleep): the
    /// step fails with TIMEOUT when the clock reaches it, and no inner sleep is left waiting.
    @Test(.timeLimit(.minutes(1))) func aTimeoutEndsSleepsNestedInMapIterateAndEval() async throws {
        let clock = TestClock()
        let engine = Engine(clock: clock)
        let flow = try Flow(yaml: """
            steps:
              - id: m
                component: /builtin/map
                timeout: 2
                input:
                  items: [1, 2]
                  workflow:
                    $literal:
                      steps:
                        - id: it
                          component: /builtin/iterate
                          input:
                            initial_input: { $input: $ }
                            flow:
                              $literal:
                                steps:
                                  - id: ev
                                    component: /builtin/eval
                                    input:
                                      input: {}
                                      flow: { $literal: { steps: [{ id: z, component: /builtin/sleep, input: { duration_ms: 3600000 } }], output: { $step: z } } }
                                output: { result: { $step: ev } }
                      output: { $step: it }
            output: { $step: m }
            """)
        let run = Task { await engine.run(flow, input: [:]) }
        // The map step's timeout and one sleep per item.
        try #require(await StepflowSemanticsTests.sleepers(3, on: clock, before: run))
        #expect(clock.pendingDelays == [.seconds(2), .seconds(3600), .seconds(3600)])
        clock.advance(by: .seconds(2))
        let result = await run.value
        #expect(result.status == .failed)
        #expect(result.step("m")?.error?.code == "TIMEOUT")
        #expect(clock.now.offset == .seconds(2))
        // The grace period's timer may still be armed; the inner sleeps are not.
        #expect(!clock.pendingDelays.contains(.seconds(3598)), "\(clock.pendingDelays)")
        await engine.shutdown()
    }

    /// A failed flow result in eval's and map's output had only the code and message: the failed
    /// step's data (a mock's error data, a plugin's details), which Stepflow's flow error carries
    /// and expected results match, was dropped.
    @Test func failedFlowResultsInsideStepsKeepTheErrorsData() async throws {
        let engine = Engine()
        engine.register(route: "/app/fail") { _, _ in
            throw StepError(code: "NOT_FOUND", message: "no such id", details: ["id": 7])
        }
        let flow = try Flow(yaml: """
            steps:
              - id: ev
                component: /builtin/eval
                input: { input: {}, flow: { $literal: { steps: [{ id: f, component: /app/fail }], output: { $step: f } } } }
              - id: m
                component: /builtin/map
                input: { items: [1], workflow: { $literal: { steps: [{ id: f, component: /app/fail }], output: { $step: f } } } }
            output: { eval: { $step: ev, path: result }, map: { $step: m, path: "results[0]" } }
            """)
        let result = await engine.run(flow, input: [:])
        let expected: JSON = ["outcome": "failed", "error": ["code": "NOT_FOUND", "message": "no such id", "data": ["id": 7]]]
        #expect(result.output?["eval"] == expected)
        #expect(result.output?["map"] == expected)
        await engine.shutdown()
    }

    /// `--strict-outputs` (`RunOptions.strictOutputs`) checked sub-flows' outputs but not those of
    /// the flows `eval`, `map` and `iterate` run: an inner flow whose output broke its own output
    /// schema succeeded under strict mode.
    @Test func strictOutputsReachTheFlowsRunInsideSteps() async throws {
        let inner = "{ $literal: { outputSchema: { type: string }, steps: [{ id: n, component: /builtin/noop, input: 5 }], output: { $step: n } } }"
        let iterateInner = "{ $literal: { outputSchema: { required: [result] }, steps: [{ id: n, component: /builtin/noop, input: { next: 1 } }], output: { $step: n } } }"
        let flow = try Flow(yaml: """
            steps:
              - { id: ev, component: /builtin/eval, input: { input: {}, flow: \(inner) } }
              - { id: m, component: /builtin/map, input: { items: [1], workflow: \(inner) } }
              - { id: it, component: /builtin/iterate, onError: { action: useDefault, defaultValue: refused }, input: { initial_input: 0, max_iterations: 3, flow: \(iterateInner) } }
            output: { ev: { $step: ev, path: result.outcome }, m: { $step: m, path: failed }, it: { $step: it } }
            """)
        let engine = Engine()
        let lenient = await engine.run(flow, input: [:])
        #expect(lenient.output == ["ev": "success", "m": 0, "it": ["result": 1, "iterations": 3, "terminated": true]])
        let strict = await engine.run(flow, input: [:], options: RunOptions(strictOutputs: true))
        #expect(strict.output == ["ev": "failed", "m": 1, "it": "refused"], "\(strict.output ?? .null)")
        #expect(strict.step("it")?.error?.code == "INVALID_OUTPUT")
        await engine.shutdown()
    }

    // MARK: nodal test

    /// A case whose `output` is not a flow result (`output: 42`, meant as the result) or whose
    /// `outcome` is not a name passed whenever the run succeeded: nothing was checked.
    @Test func anExpectationThatIsNotAFlowResultFailsItsCase() async throws {
        let flow = try Flow(yaml: """
            steps: []
            output: { $input: x }
            test:
              cases:
                - { name: bare, input: { x: 1 }, output: 42 }
                - { name: text, input: { x: 1 }, output: "1" }
                - { name: list, input: { x: 1 }, output: [1] }
                - { name: number-outcome, input: { x: 1 }, output: { outcome: 5, result: 2 } }
                - { name: none, input: { x: 1 }, output: null }
                - { name: right, input: { x: 1 }, output: { outcome: success, result: 1 } }
            """)
        let engine = Engine()
        var problems: [String: String] = [:]
        for testCase in flow.testCases {
            let result = await engine.run(flow, input: testCase.input)
            #expect(result.status == .success)
            problems[testCase.name] = testCase.mismatch(result) ?? "passed"
        }
        #expect(problems["bare"] == "output: expected a flow result such as {outcome: success, result: ...}, got number 42")
        #expect(problems["text"]?.hasPrefix("output: expected a flow result") == true)
        #expect(problems["list"]?.hasPrefix("output: expected a flow result") == true)
        #expect(problems["number-outcome"] == "output.outcome: expected success, failed or paused, got number 5")
        #expect(problems["none"] == "passed")
        #expect(problems["right"] == "passed")
        await engine.shutdown()
    }

    // MARK: nodal test's configuration

    /// `test.config_file` was looked for before it was checked to be inside the flow's folder, so
    /// a flow learned whether any file on the machine exists from which error it got ("outside the
    /// flow's folder" or "no configuration file"). Sub-flow files were already checked in the
    /// other order.
    @Test func aTestConfigFileOutsideTheFolderIsRefusedWhetherOrNotItExists() throws {
        let outside = try temporaryDirectory(containing: ["exists.yml": "plugins: {}\n"])
        let folder = try temporaryDirectory()
        func error(for name: String) throws -> FlowError? {
            let flow = folder + "/flow.yaml"
            try "steps: []\noutput: 1\ntest:\n  config_file: \(name)\n  cases: []\n".write(toFile: flow, atomically: true, encoding: .utf8)
            do {
                _ = try NodalConfig.forTest(ofFlowAt: flow, named: nil, environment: { _ in nil })
                return nil
            } catch {
                return error
            }
        }
        let existing = try #require(try error(for: outside + "/exists.yml"))
        let missing = try #require(try error(for: outside + "/missing.yml"))
        let folderItself = try #require(try error(for: outside))
        for error in [existing, missing, folderItself] {
            #expect(error.field == "test.config_file")
            #expect(error.message.contains("is outside the flow's folder"), "\(error)")
        }
        // Relative paths that climb out, and a symlink that leads out, are refused the same way.
        let relative = try #require(try error(for: "../" + FileSystem.baseName(outside) + "/missing.yml"))
        #expect(relative.message.contains("is outside the flow's folder"), "\(relative)")
        try FileManager.default.createSymbolicLink(atPath: folder + "/link", withDestinationPath: outside)
        let throughLink = try #require(try error(for: "link/missing.yml"))
        #expect(throughLink.message.contains("is outside the flow's folder"), "\(throughLink)")
        // Inside the folder, a missing file is still named as missing.
        let inside = try #require(try error(for: "nothing-here.yml"))
        #expect(inside.message.hasPrefix("no configuration file"), "\(inside)")
    }
}
