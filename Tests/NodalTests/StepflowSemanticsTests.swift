import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON

/// Expressions and builtins behave as Stepflow's do (issue 12: Stepflow flows run unchanged,
/// exactly). Each test states the Stepflow rule it checks and asserts the value a flow author sees.
@Suite struct StepflowSemanticsTests {
    static func engine(clock: TestClock? = nil) -> Engine {
        let engine = clock.map { Engine(clock: $0) } ?? Engine()
        engine.register(route: "/app/echo") { input, _ in input }
        engine.register(route: "/app/null") { _, _ in .null }
        engine.register(route: "/app/fail") { _, _ in throw StepError(code: "BOOM", message: "failed on purpose") }
        return engine
    }

    /// Runs every `test: cases:` entry of the flow and expects each to match.
    static func expectCasesPass(_ flow: Flow, engine: Engine, sourceLocation: SourceLocation = #_sourceLocation) async {
        #expect(!flow.testCases.isEmpty, sourceLocation: sourceLocation)
        for testCase in flow.testCases {
            let result = await engine.run(flow, input: testCase.input)
            #expect(testCase.mismatch(result) == nil, "case '\(testCase.name)'", sourceLocation: sourceLocation)
        }
    }

    /// Waits until `count` tasks sleep on the clock; false if the run ends first, so a sleep that
    /// does not wait fails the test instead of hanging it.
    static func sleepers(_ count: Int, on clock: TestClock, before run: Task<RunResult, Never>) async -> Bool {
        final class Once: Sendable {
            let continuation: Mutex<CheckedContinuation<Bool, Never>?>
            init(_ continuation: CheckedContinuation<Bool, Never>) { self.continuation = Mutex(continuation) }
            func finish(_ value: Bool) { continuation.withLock { $0.take() }?.resume(returning: value) }
        }
        return await withCheckedContinuation { continuation in
            let once = Once(continuation)
            Task { await clock.waitForSleepers(count: count); once.finish(true) }
            Task { _ = await run.value; once.finish(false) }
        }
    }

    // MARK: /builtin/eval: {result: <flow result>, run_id}

    /// Stepflow's tests/builtins/nested_eval.yaml, rewritten: the eval step's `result` is the
    /// nested flow's result, `{outcome, result}`.
    @Test func evalOutputHoldsTheNestedFlowResultAsInStepflowsNestedEvalTest() async throws {
        let flow = try Flow(yaml: """
            name: nested eval
            steps:
              - id: nested_flow
                component: /builtin/eval
                input:
                  workflow:
                    $literal:
                      steps:
                        - id: inner_step
                          component: /builtin/create_messages
                          input: { user_prompt: Hello from nested flow }
                      output:
                        result: { $from: { step: inner_step } }
                  input: {}
            output:
              nested_result: { $from: { step: nested_flow }, path: $.result }
            test:
              cases:
                - name: nested flow
                  input: {}
                  output:
                    outcome: success
                    result:
                      nested_result:
                        outcome: success
                        result:
                          result:
                            messages: [{ role: user, content: Hello from nested flow }]
            """)
        let engine = Self.engine()
        await Self.expectCasesPass(flow, engine: engine)
        let result = await engine.run(flow, input: [:])
        #expect(result.output == [
            "nested_result": ["outcome": "success", "result": ["result": ["messages": [["role": "user", "content": "Hello from nested flow"]]]]],
        ])
    }

    /// Stepflow's examples/eval/simple-eval.yaml, rewritten, and the whole eval output.
    @Test func evalOutputIsResultAndRunID() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: test_eval
                component: /builtin/eval
                input:
                  workflow: { $literal: { steps: [], output: { test_result: Hello from nested workflow! } } }
                  input: {}
            output:
              result: { $from: { step: test_eval }, path: result }
              whole: { $step: test_eval }
            """)
        let result = await Self.engine().run(flow, input: [:], options: RunOptions(runID: "outer"))
        #expect(result.status == .success)
        #expect(result.output?["result"] == ["outcome": "success", "result": ["test_result": "Hello from nested workflow!"]])
        #expect(result.output?["whole"] == [
            "result": ["outcome": "success", "result": ["test_result": "Hello from nested workflow!"]],
            "run_id": "outer.test_eval",
        ])
    }

    /// Stepflow's eval succeeds when the nested flow fails; the failure is in its `result`.
    @Test func evalOfAFailingFlowSucceedsWithAFailedFlowResult() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: e
                component: /builtin/eval
                input:
                  flow: { $literal: { steps: [{ id: f, component: /app/fail }], output: { $step: f } } }
                  input: {}
            output: { $step: e }
            """)
        let result = await Self.engine().run(flow, input: [:], options: RunOptions(runID: "r"))
        #expect(result.status == .success)
        #expect(result.step("e")?.status == .success)
        let output = try #require(result.output)
        #expect(output["run_id"] == "r.e")
        #expect(output["result"]?["outcome"] == "failed")
        #expect(output["result"]?["error"]?["code"] == "BOOM")
        #expect(output["result"]?["error"]?["message"]?.stringValue?.contains("failed on purpose") == true)
        #expect(output["outcome"] == nil, "the flow result is under 'result', not one level up")
    }

    // MARK: $if: only null and false are false

    @Test func ifTreatsOnlyNullAndFalseAsFalse() async throws {
        let flow = try Flow(yaml: "steps: []\noutput: { $if: { $input: c }, then: yes, else: no }")
        let engine = Self.engine()
        for condition: JSON in [0, 0.0, "", [], [:], true, 1, "false", ["a": false]] {
            #expect(await engine.run(flow, input: ["c": condition]).output == "yes", "condition \(condition)")
        }
        for condition: JSON in [false, .null] {
            #expect(await engine.run(flow, input: ["c": condition]).output == "no", "condition \(condition)")
        }
    }

    @Test func aConditionThatFailsToEvaluateTakesElse() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: s, component: /app/echo, input: { a: 1 } }
              - { id: bad, component: /app/fail, onError: { action: continue } }
              - { id: reader, component: /app/echo, input: { $if: { $step: bad }, then: yes, else: no } }
            output:
              missingInput: { $if: { $input: nowhere.near }, then: yes, else: no }
              missingPath: { $if: { $step: s, path: b.c }, then: yes, else: no }
              noOutput: { $step: reader }
            """)
        let result = await Self.engine().run(flow, input: [:])
        #expect(result.output == ["missingInput": "no", "missingPath": "no", "noOutput": "no"])
        // A step whose condition reads a step without output is not skipped: it takes else.
        #expect(result.step("reader")?.status == .success)
    }

    @Test func ifWithoutElseIsNullWhenFalse() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: then_step, component: /app/echo, input: ran }
            output: { $if: { $input: c }, then: { $step: then_step } }
            """)
        let engine = Self.engine()
        let skipped = await engine.run(flow, input: ["c": false])
        #expect(skipped.status == .success)
        #expect(skipped.output == .null)
        #expect(skipped.step("then_step")?.status == .skipped)
        #expect(await engine.run(flow, input: ["c": 0]).output == "ran")
    }

    // MARK: $coalesce: null and steps without output are passed over, failures propagate

    @Test func coalesceFailsWithAFailingOptionsError() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: s, component: /app/echo, input: { x: { $coalesce: [{ $input: missing }, fallback] } } }
            output: { $step: s }
            """)
        let result = await Self.engine().run(flow, input: ["other": 1])
        #expect(result.status == .failed)
        let error = try #require(result.step("s")?.error)
        #expect(error.message.contains("the run input has nothing at '$.missing'"), "\(error.message)")
    }

    @Test func coalescePassesOverNullAndStepsWithoutOutput() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: nothing, component: /app/null }
              - { id: bad, component: /app/fail, onError: { action: continue } }
              - { id: value, component: /app/echo, input: { v: 42 } }
            output:
              $coalesce: [null, { $input: absent }, { $step: nothing, path: some.field }, { $step: bad, path: x }, { $step: value, path: v }, { $input: missing }]
            """)
        let result = await Self.engine().run(flow, input: ["absent": .null])
        // The flow's status is STEPS_FAILED for `bad` (onError: continue); the output is built.
        #expect(result.output == 42)
        #expect(result.error?.steps.map(\.id) == ["bad"])
    }

    // MARK: $step with a path on a null output

    @Test func aPathIntoANullStepOutputIsNull() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: nothing, component: /app/null }
            output:
              step: { $step: nothing, path: "a.b[0]" }
              from: { $from: { step: nothing }, path: $.a }
            """)
        let result = await Self.engine().run(flow, input: [:])
        #expect(result.status == .success)
        #expect(result.output == ["step": nil, "from": nil])
    }

    @Test func aMissingPathOnAValueFailsTheReadingStepNamingIt() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: s, component: /app/echo, input: { a: 1 } }
              - { id: reader, component: /app/echo, input: { $step: s, path: b } }
            output: { $step: reader }
            """)
        let result = await Self.engine().run(flow, input: [:])
        #expect(result.status == .failed)
        let message = result.step("reader")?.error?.message ?? ""
        #expect(message.contains("the output of step 's' has nothing at '$.b'"), "\(message)")
    }

    /// Nodal's `default` beside `$step`/`$input` (not in Stepflow, so no Stepflow flow has it):
    /// what a missing path gives instead of an error.
    @Test func aReferenceDefaultStandsInForAMissingPathOnly() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: s, component: /app/echo, input: { a: 1 } }
              - { id: fallback, component: /app/echo, input: from a step }
              - { id: unused, component: /app/echo, input: never }
            output:
              found: { $step: s, path: a, default: 0 }
              missing: { $step: s, path: b, default: 0 }
              input: { $input: nope, default: { $step: fallback } }
              present: { $input: here, default: { $step: unused } }
            """)
        let result = await Self.engine().run(flow, input: ["here": "given"])
        #expect(result.status == .success)
        #expect(result.output == ["found": 1, "missing": 0, "input": "from a step", "present": "given"])
        #expect(result.step("unused")?.status == .skipped)
        #expect(result.step("unused")?.skipReason == "on a branch not taken")
    }

    // MARK: /builtin/iterate: {result, iterations, terminated}

    static let forever = "{ steps: [{ id: s, component: /app/echo, input: { next: { n: { $input: n } } } }], output: { $step: s } }"

    @Test func iterateReachingMaxIterationsSucceedsWithTheLastValue() async throws {
        let engine = Self.engine()
        engine.register(route: "/app/inc") { input, _ in ["next": ["n": .int((input["n"]?.intValue ?? 0) + 1)]] }
        let flow = try Flow(yaml: """
            steps:
              - id: loop
                component: /builtin/iterate
                input:
                  flow: { $literal: { steps: [{ id: s, component: /app/inc, input: { $input: $ } }], output: { $step: s } } }
                  initial_input: { n: 0 }
                  max_iterations: 5
            output: { $step: loop }
            """)
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .success)
        #expect(result.output == ["result": ["n": 5], "iterations": 5, "terminated": true])
    }

    @Test func iterateWithZeroMaxIterationsReturnsTheInitialInput() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: loop, component: /builtin/iterate, input: { flow: { $literal: \(Self.forever) }, initial_input: { n: 7 }, max_iterations: 0 } }
            output: { $step: loop }
            """)
        let result = await Self.engine().run(flow, input: [:])
        #expect(result.output == ["result": ["n": 7], "iterations": 0, "terminated": true])
    }

    @Test func iterateTakesResultOverNextAndCountsANullResult() async throws {
        let engine = Self.engine()
        func run(_ output: String) async throws -> JSON? {
            let flow = try Flow(yaml: """
                steps:
                  - id: loop
                    component: /builtin/iterate
                    input: { flow: { $literal: { steps: [], output: \(output) } }, initial_input: 1 }
                output: { $step: loop }
                """)
            return await engine.run(flow, input: [:]).output
        }
        #expect(try await run("{ next: 1, result: done }") == ["result": "done", "iterations": 1, "terminated": false])
        #expect(try await run("{ result: null }") == ["result": nil, "iterations": 1, "terminated": false])
    }

    @Test func iterateFailsOnAnOutputWithNeitherKey() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: loop
                component: /builtin/iterate
                input: { flow: { $literal: { steps: [], output: [1] } }, initial_input: 1 }
            output: { $step: loop }
            """)
        let result = await Self.engine().run(flow, input: [:])
        #expect(result.status == .failed)
        let error = try #require(result.step("loop")?.error)
        #expect(error.code == "INVALID_OUTPUT")
        #expect(error.message.contains("iteration 1 has neither 'next' nor 'result'"))
    }

    // MARK: /builtin/noop and /builtin/sleep

    @Test func noopReturnsItsInputUnchanged() async throws {
        let engine = Self.engine()
        for input: JSON in [["key": "value", "num": 42], .null, 3, ["a", ["b": nil]]] {
            let flow = try Flow(yaml: "steps: [{ id: n, component: /builtin/noop, input: { $input: $ } }]\noutput: { $step: n }")
            let result = await engine.run(flow, input: input)
            #expect(result.status == .success)
            #expect(result.output == input)
        }
    }

    static let sleepFlow = "steps: [{ id: z, component: /builtin/sleep, input: { $input: $ } }]\noutput: { $step: z }"

    @Test(.timeLimit(.minutes(1))) func sleepWaitsOnTheEngineClockAndEchoesItsInput() async throws {
        let clock = TestClock()
        let engine = Self.engine(clock: clock)
        let flow = try Flow(yaml: Self.sleepFlow)
        let run = Task { await engine.run(flow, input: ["duration_ms": 250, "passthrough": ["data": "hello"]]) }
        try #require(await Self.sleepers(1, on: clock, before: run))
        #expect(clock.pendingDelays == [.milliseconds(250)])
        clock.advance(by: .milliseconds(249))
        #expect(clock.sleeperCount == 1, "sleep ended before its time")
        clock.advance(by: .milliseconds(1))
        let result = await run.value
        #expect(result.status == .success)
        #expect(result.output == ["duration_ms": 250, "passthrough": ["data": "hello"]])
        // Stepflow writes duration_ms as a floating-point number.
        #expect(result.output?["duration_ms"]?.serialized() == "250.0")

        // No passthrough (or a null one): the output has no passthrough key. Fractions are fine.
        for input: JSON in [["duration_ms": 1.5], ["duration_ms": 1.5, "passthrough": nil]] {
            let plain = Task { await engine.run(flow, input: input) }
            try #require(await Self.sleepers(1, on: clock, before: plain))
            #expect(clock.pendingDelays == [.microseconds(1500)])
            clock.advance(by: .microseconds(1500))
            let output = await plain.value.output
            #expect(output == ["duration_ms": 1.5])
            #expect(output?["passthrough"] == nil)
        }
    }

    @Test func sleepRejectsBadDurationsNamingTheField() async throws {
        let engine = Self.engine()
        let flow = try Flow(yaml: Self.sleepFlow)
        for input: JSON in [["duration_ms": -1], ["duration_ms": "10"], ["duration_ms": 1e12], ["duration_ms": nil], ["passthrough": 1], 5] {
            let result = await engine.run(flow, input: input)
            #expect(result.status == .failed, "input \(input)")
            let error = result.step("z")?.error
            #expect(error?.code == "INVALID_INPUT", "input \(input)")
            #expect(error?.message.contains("duration_ms") == true, "input \(input): \(error?.message ?? "")")
        }
        let range = try #require(await engine.run(flow, input: ["duration_ms": -1]).step("z")?.error?.message)
        #expect(range.contains("'duration_ms' must be a number of milliseconds from 0 to 31536000000, not -1"), "\(range)")
    }

    @Test(.timeLimit(.minutes(1))) func cancelingTheRunEndsASleepAtOnce() async throws {
        let clock = TestClock()
        let engine = Self.engine(clock: clock)
        let token = CancellationToken()
        let flow = try Flow(yaml: Self.sleepFlow)
        let run = Task { await engine.run(flow, input: ["duration_ms": 3_600_000], options: RunOptions(cancellation: token)) }
        try #require(await Self.sleepers(1, on: clock, before: run))
        token.cancel()
        // The clock never moves: the sleep must end on the cancel alone.
        let result = await run.value
        #expect(result.status == .canceled)
        #expect(result.step("z")?.status == .canceled)
        #expect(clock.sleeperCount == 0)
    }

    @Test(.timeLimit(.minutes(1))) func aStepTimeoutEndsASleep() async throws {
        let clock = TestClock()
        let engine = Self.engine(clock: clock)
        let flow = try Flow(yaml: """
            steps: [{ id: z, component: /builtin/sleep, input: { duration_ms: 3600000 }, timeout: 2 }]
            output: { $step: z }
            """)
        let run = Task { await engine.run(flow, input: [:]) }
        // The sleep itself and the step's timeout.
        try #require(await Self.sleepers(2, on: clock, before: run))
        #expect(clock.pendingDelays == [.seconds(2), .seconds(3600)])
        clock.advance(by: .seconds(2))
        let result = await run.value
        #expect(result.status == .failed)
        #expect(result.step("z")?.error?.code == "TIMEOUT")
        #expect(clock.now.offset == .seconds(2), "the run did not wait out the sleep")
    }
}
