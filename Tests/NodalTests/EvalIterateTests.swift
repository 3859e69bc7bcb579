import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// `/builtin/eval`, `/builtin/iterate`, and flows given by blob id (also to `/builtin/map`).
@Suite struct EvalIterateTests {
    /// An engine with `/app/half` (fails with ODD on odd numbers) and `/app/count` (one step of a
    /// counter loop: `{n, limit}` to `{next: {n: n+1, limit}}`, or `{result: n+1}` at the limit).
    static func engine() -> Engine {
        let engine = Engine()
        engine.register(route: "/app/half") { input, _ in
            guard let n = input.intValue, n % 2 == 0 else { throw StepError(code: "ODD", message: "\(input) is odd") }
            return .int(n / 2)
        }
        engine.register(route: "/app/count") { input, _ in
            guard let n = input["n"]?.intValue, let limit = input["limit"]?.intValue else {
                throw StepError(code: "BAD_COUNTER", message: "need n and limit, got \(input)")
            }
            return n + 1 >= limit ? ["result": .int(n + 1)] : ["next": ["n": .int(n + 1), "limit": .int(limit)]]
        }
        return engine
    }

    static let halfFlow = "{ steps: [{ id: h, component: /app/half, input: { $input: $ } }], output: { $step: h } }"

    // MARK: eval

    @Test func evalRunsAnInlineFlowAndReportsItsResult() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: inner
                component: /builtin/eval
                input:
                  flow: { $literal: \(Self.halfFlow) }
                  input: { $input: n }
            output: { $step: inner }
            """)
        let result = await Self.engine().run(flow, input: ["n": 10], options: RunOptions(runID: "outer"))
        #expect(result.status == .success)
        #expect(result.output == ["result": ["outcome": "success", "result": 5], "run_id": "outer.inner"])
    }

    @Test func aFailedInnerRunIsAnOutcomeNotAFailedStep() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: inner
                component: /builtin/eval
                input: { workflow: { $literal: \(Self.halfFlow) }, input: 7 }
            output: { $step: inner }
            """)
        let result = await Self.engine().run(flow, input: [:], options: RunOptions(runID: "r"))
        #expect(result.status == .success)
        let output = try #require(result.output)
        #expect(output["result"]?["outcome"] == "failed")
        #expect(output["run_id"] == "r.inner")
        #expect(output["result"]?["error"]?["code"] == "ODD")
        #expect(output["result"]?["error"]?["message"]?.stringValue?.contains("7 is odd") == true)
    }

    @Test func evalRunsAFlowStoredAsABlob() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: store
                component: /builtin/put_blob
                input: { data: { $literal: \(Self.halfFlow) }, blob_type: flow }
              - id: run
                component: /builtin/eval
                input: { flow_id: { $step: store, path: blob_id }, input: 12 }
            output: { $step: run, path: result.result }
            """)
        let result = await Self.engine().run(flow, input: [:])
        #expect(result.status == .success, "\(String(describing: result.error))")
        #expect(result.output == 6)
    }

    @Test func anInvalidOrMissingFlowFailsTheStep() async throws {
        let engine = Self.engine()
        func error(_ input: String) async throws -> StepError? {
            let flow = try Flow(yaml: "steps: [{ id: e, component: /builtin/eval, input: \(input) }]\noutput: { $step: e }")
            let result = await engine.run(flow, input: [:])
            #expect(result.status == .failed)
            return result.step("e")?.error
        }
        let unknownRoute = try await error("{ flow: { $literal: { steps: [{ id: x, component: /nowhere/at-all }], output: 1 } }, input: 1 }")
        #expect(unknownRoute?.code == "INVALID_INPUT")
        #expect(unknownRoute?.message.contains("eval: the flow under 'flow' is not valid") == true)
        #expect(unknownRoute?.message.contains("/nowhere/at-all") == true)

        let id = String(repeating: "0", count: 64)
        let missingBlob = try await error("{ workflow_id: \"sha256:\(id)\", input: 1 }")
        #expect(missingBlob?.code == "BLOB_NOT_FOUND")
        #expect(missingBlob?.message.contains("eval") == true)
        #expect(missingBlob?.message.contains(id) == true)
        #expect(missingBlob?.message.contains("'workflow_id'") == true)

        let noFlow = try await error("{ input: 1 }")
        #expect(noFlow?.code == "INVALID_INPUT")
        #expect(noFlow?.message.contains("'flow_id'") == true)

        let twice = try await error("{ flow: { $literal: \(Self.halfFlow) }, flow_id: \"\(id)\", input: 1 }")
        #expect(twice?.code == "INVALID_INPUT")
        #expect(twice?.message.contains("'flow' and 'flow_id'") == true)

        let noInput = try await error("{ flow: { $literal: \(Self.halfFlow) } }")
        #expect(noInput?.code == "INVALID_INPUT")
        #expect(noInput?.message.contains("'input'") == true)
    }

    @Test func cancellingTheOuterRunStopsTheInnerRun() async throws {
        let engine = Engine()
        final class Flag: Sendable {
            private let value = Mutex(false)
            func set() { value.withLock { $0 = true } }
            var isSet: Bool { value.withLock { $0 } }
        }
        let sawCancellation = Flag()
        engine.register(route: "/app/wait") { _, _ in
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                sawCancellation.set()
                throw error
            }
            return nil
        }
        let flow = try Flow(yaml: """
            steps:
              - id: inner
                component: /builtin/eval
                input: { flow: { $literal: { steps: [{ id: w, component: /app/wait }], output: { $step: w } } }, input: {} }
            output: { $step: inner }
            """)
        let token = CancellationToken()
        Task {
            try await Task.sleep(for: .milliseconds(200))
            token.cancel()
        }
        let result = await engine.run(flow, input: [:], options: RunOptions(cancellation: token))
        #expect(result.status == .canceled)
        #expect(result.step("inner")?.status == .canceled)
        // The inner node's 30 s sleep was interrupted, not waited out (no wall-clock bound: the
        // suite runs in parallel on a loaded machine).
        #expect(sawCancellation.isSet)
    }

    // MARK: map by blob id

    @Test func mapRunsAFlowStoredAsABlobAndKeepsFailedItems() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: store
                component: /builtin/put_blob
                input: { data: { $literal: \(Self.halfFlow) }, blob_type: flow }
              - id: halves
                component: /builtin/map
                input: { workflow_id: { $step: store, path: blob_id }, items: [4, 3, 10] }
            output: { $step: halves }
            """)
        let result = await Self.engine().run(flow, input: [:])
        #expect(result.status == .success, "\(String(describing: result.error))")
        let output = try #require(result.output)
        #expect(output["successful"] == 2)
        #expect(output["failed"] == 1)
        let results = try #require(output["results"]?.arrayValue)
        #expect(results[0] == ["outcome": "success", "result": 2])
        #expect(results[1]["outcome"] == "failed")
        #expect(results[1]["error"]?["code"] == "ODD")
        #expect(results[2] == ["outcome": "success", "result": 5])
    }

    @Test func mapByAnUnknownBlobIdFailsTheStep() async throws {
        let id = String(repeating: "f", count: 64)
        let flow = try Flow(yaml: """
            steps: [{ id: m, component: /builtin/map, input: { flow_id: "\(id)", items: [1] } }]
            output: { $step: m }
            """)
        let error = await Self.engine().run(flow, input: [:]).step("m")?.error
        #expect(error?.code == "BLOB_NOT_FOUND")
        #expect(error?.message.contains("map") == true)
        #expect(error?.message.contains(id) == true)
    }

    // MARK: iterate

    static let counterFlow = "{ steps: [{ id: c, component: /app/count, input: { $input: $ } }], output: { $step: c } }"

    @Test func iterateLoopsUntilTheFlowReturnsAResult() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: loop
                component: /builtin/iterate
                input:
                  flow: { $literal: \(Self.counterFlow) }
                  initial_input: { n: 0, limit: { $input: limit } }
            output: { $step: loop }
            """)
        let result = await Self.engine().run(flow, input: ["limit": 7])
        #expect(result.status == .success, "\(String(describing: result.error))")
        #expect(result.output == ["result": 7, "iterations": 7, "terminated": false])
        // A flow that returns a result at once runs once.
        let once = await Self.engine().run(flow, input: ["limit": 1])
        #expect(once.output == ["result": 1, "iterations": 1, "terminated": false])
    }

    @Test func iterateWithAFlowFromABlobAndAStdPluginNode() async throws {
        // The std plugin's `increment` ({value} to {value + 1}) with $if choosing next or result.
        let engine = Self.engine()
        try engine.loadPlugin(at: Products.plugin("nodal_std"))
        engine.register(route: "/app/at-least") { input, _ in
            .bool((input["value"]?.intValue ?? 0) >= (input["limit"]?.intValue ?? 0))
        }
        let flow = try Flow(yaml: """
            steps:
              - id: store
                component: /builtin/put_blob
                input:
                  blob_type: flow
                  data:
                    $literal:
                      steps:
                        - { id: inc, component: /std/increment, input: { value: { $input: value } } }
                        - { id: done, component: /app/at-least, input: { value: { $step: inc, path: value }, limit: 3 } }
                      output:
                        $if: { $step: done }
                        then: { result: { $step: inc, path: value } }
                        else: { next: { value: { $step: inc, path: value } } }
              - id: loop
                component: /builtin/iterate
                input: { flow_id: { $step: store, path: blob_id }, initial_input: { value: 0 } }
            output: { $step: loop }
            """)
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .success, "\(String(describing: result.error))")
        #expect(result.output == ["result": 3, "iterations": 3, "terminated": false])
    }

    @Test func iterateStopsAtMaxIterationsWithTheLastValue() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: loop
                component: /builtin/iterate
                input: { flow: { $literal: \(Self.counterFlow) }, initial_input: { n: 0, limit: 1000000 }, max_iterations: 5 }
            output: { $step: loop }
            """)
        // Stepflow: not a failure; the result is the last `next` value, and `terminated` says why.
        let result = await Self.engine().run(flow, input: [:])
        #expect(result.status == .success)
        #expect(result.output == ["result": ["n": 5, "limit": 1000000], "iterations": 5, "terminated": true])
    }

    @Test func iterateRejectsAnOutputWithNeitherKeyAndPrefersResultToNext() async throws {
        let engine = Self.engine()
        engine.register(route: "/app/odd-output") { input, _ in
            let n = input.intValue ?? 0
            return n < 3 ? ["next": .int(n + 1)] : ["nxt": .int(n + 1)]
        }
        engine.register(route: "/app/both") { _, _ in ["next": 1, "result": 2] }
        func error(_ component: String) async throws -> StepError? {
            let flow = try Flow(yaml: """
                steps:
                  - id: loop
                    component: /builtin/iterate
                    input: { flow: { $literal: { steps: [{ id: s, component: \(component), input: { $input: $ } }], output: { $step: s } } }, initial_input: 1 }
                output: { $step: loop }
                """)
            return await engine.run(flow, input: [:]).step("loop")?.error
        }
        let neither = try #require(try await error("/app/odd-output"))
        #expect(neither.code == "INVALID_OUTPUT")
        #expect(neither.message.contains("iteration 3 has neither 'next' nor 'result'"))
        #expect(neither.message.contains(#"{"nxt":4}"#))
        // Both keys: `result` wins, as in Stepflow.
        #expect(try await error("/app/both") == nil)
    }

    @Test func aFailedIterationFailsTheStepWithItsCode() async throws {
        // {n: 0, limit: ...} then the counter's input lacks `limit` from the second run on.
        let engine = Self.engine()
        engine.register(route: "/app/drop-limit") { input, _ in ["next": ["n": input["n"] ?? 0]] }
        let flow = try Flow(yaml: """
            steps:
              - id: loop
                component: /builtin/iterate
                input:
                  flow:
                    $literal:
                      steps: [{ id: c, component: /app/count, input: { $input: $ } }, { id: d, component: /app/drop-limit, input: { $step: c, path: next } }]
                      output: { $step: d }
                  initial_input: { n: 0, limit: 10 }
            output: { $step: loop }
            """)
        let error = try #require(await engine.run(flow, input: [:]).step("loop")?.error)
        #expect(error.code == "BAD_COUNTER")
        #expect(error.message.contains("iterate: iteration 2 failed"))
    }

    @Test func iterateChecksItsInput() async throws {
        let engine = Self.engine()
        func error(_ input: String) async throws -> StepError? {
            let flow = try Flow(yaml: "steps: [{ id: i, component: /builtin/iterate, input: \(input) }]\noutput: { $step: i }")
            return await engine.run(flow, input: [:]).step("i")?.error
        }
        for bad in ["-1", "1.5", "\"10\"", "4294967296"] {
            let limit = try await error("{ flow: { $literal: \(Self.counterFlow) }, initial_input: 1, max_iterations: \(bad) }")
            #expect(limit?.code == "INVALID_INPUT")
            #expect(limit?.message.contains("'max_iterations' must be a whole number from 0 to 4294967295") == true, "\(limit?.message ?? "")")
        }
        let noInitial = try await error("{ flow: { $literal: \(Self.counterFlow) } }")
        #expect(noInitial?.code == "INVALID_INPUT")
        #expect(noInitial?.message.contains("'initial_input'") == true)
        let notAnObject = try await error("{ flow: [1, 2], initial_input: 1 }")
        #expect(notAnObject?.code == "INVALID_INPUT")
        #expect(notAnObject?.message.contains("iterate: 'flow' must be a flow") == true)
    }
}
