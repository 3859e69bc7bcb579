import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

@Suite struct SchedulerTests {
    /// An engine with a Swift node that records each call.
    final class CallLog: Sendable {
        private let calls = Mutex<[String]>([])
        func append(_ id: String) { calls.withLock { $0.append(id) } }
        func withLock<T>(_ body: ([String]) -> T) -> T { calls.withLock { body($0) } }
    }

    func engineRecordingCalls() -> (Engine, CallLog) {
        let engine = Engine()
        let calls = CallLog()
        engine.register(route: "/app/tag") { input, context in
            calls.append(context.stepID)
            return ["tagged": input["value"] ?? .null, "by": .string(context.stepID)]
        }
        return (engine, calls)
    }

    @Test func asyncSwiftNodesChainThroughStepReferences() async throws {
        let (engine, _) = engineRecordingCalls()
        let flow = try Flow(yaml: """
            steps:
              - id: one
                component: /app/tag
                input: { value: { $input: x } }
              - id: two
                component: /app/tag
                input: { value: { $step: one, path: tagged } }
            output: { result: { $step: two, path: "$.tagged" }, by: { $step: two, path: by } }
            """)
        let result = await engine.run(flow, input: ["x": 42])
        #expect(result.status == .success)
        #expect(result.output == ["result": 42, "by": "two"])
        #expect(result.step("one")?.input == ["value": 42])
        #expect(result.step("two")?.attempts == 1)
    }

    @Test func ifRunsOnlyTheTakenBranch() async throws {
        let (engine, calls) = engineRecordingCalls()
        let flow = try Flow(yaml: """
            steps:
              - { id: yes, component: /app/tag, input: { value: 1 } }
              - { id: no, component: /app/tag, input: { value: 2 } }
            output:
              $if: { $input: flag }
              then: { $step: yes, path: tagged }
              else: { $step: no, path: tagged }
            """)
        let taken = await engine.run(flow, input: ["flag": true])
        #expect(taken.output == 1)
        #expect(calls.withLock { $0 } == ["yes"])
        #expect(taken.step("no")?.status == .skipped)
        let other = await engine.run(flow, input: ["flag": false])
        #expect(other.output == 2)
        #expect(calls.withLock { $0 } == ["yes", "no"])
    }

    @Test func conditionThatReadsAStepWaitsForIt() async throws {
        let (engine, calls) = engineRecordingCalls()
        let flow = try Flow(yaml: """
            steps:
              - { id: cond, component: /app/tag, input: { value: false } }
              - { id: a, component: /app/tag, input: { value: A } }
              - { id: b, component: /app/tag, input: { value: B } }
            output:
              $if: { $step: cond, path: tagged }
              then: { $step: a, path: tagged }
              else: { $step: b, path: tagged }
            """)
        let result = await engine.run(flow, input: [:])
        #expect(result.output == "B")
        #expect(calls.withLock { $0 }.sorted() == ["b", "cond"])
    }

    @Test func coalesceStopsAtTheFirstNonNullValue() async throws {
        let (engine, calls) = engineRecordingCalls()
        let flow = try Flow(yaml: """
            steps:
              - { id: a, component: /app/tag, input: { value: null } }
              - { id: b, component: /app/tag, input: { value: 7 } }
              - { id: c, component: /app/tag, input: { value: 8 } }
            output:
              $coalesce: [ { $input: absent }, { $step: a, path: tagged }, { $step: b, path: tagged }, { $step: c, path: tagged } ]
            """)
        // A null is passed over; a path that finds nothing would fail the expression (Stepflow).
        let result = await engine.run(flow, input: ["absent": nil])
        #expect(result.output == 7)
        #expect(calls.withLock { $0 } == ["a", "b"])
    }

    @Test func variablesLiteralsAndDefaults() async throws {
        let (engine, _) = engineRecordingCalls()
        let flow = try Flow(yaml: """
            steps: []
            output:
              v: { $variable: greeting }
              d: { $variable: other, default: fallback }
              l: { $literal: { $input: not-an-expression } }
            """)
        let result = await engine.run(flow, input: [:], options: RunOptions(variables: ["greeting": "hi"]))
        #expect(result.output == ["v": "hi", "d": "fallback", "l": ["$input": "not-an-expression"]])
        let missing = await engine.run(try Flow(yaml: "steps: []\noutput: { $variable: nope }"), input: [:])
        #expect(missing.status == .failed)
        #expect(missing.error?.message.contains("nope") == true)
    }

    @Test func missingInputFieldFailsTheStepNamingThePath() async throws {
        let (engine, _) = engineRecordingCalls()
        let flow = try Flow(yaml: "steps: [{id: s, component: /app/tag, input: {value: {$input: name}}}]\noutput: {$step: s}")
        let result = await engine.run(flow, input: ["nom": "x"])
        #expect(result.status == .failed)
        #expect(result.step("s")?.error?.code == "INPUT_ERROR")
        #expect(result.step("s")?.error?.message.contains("$.name") == true)
        #expect(result.error?.steps.map(\.id) == ["s"])
    }

    @Test func failedStepDoesNotThrowAndLaterStepsAreNotRun() async throws {
        let engine = Engine()
        engine.register(route: "/app/fail") { _, _ in throw StepError(code: "BOOM", message: "it broke", details: ["why": "test"]) }
        engine.register(route: "/app/ok") { input, _ in input }
        let flow = try Flow(yaml: """
            steps:
              - { id: bad, component: /app/fail }
              - { id: after, component: /app/ok, input: { x: { $step: bad } } }
            output: { $step: after }
            """)
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .failed)
        #expect(result.step("bad")?.status == .failed)
        #expect(result.step("bad")?.error == StepError(code: "BOOM", message: "it broke", details: ["why": "test"]))
        #expect(result.step("after")?.status == .notRun)
        #expect(result.error?.steps == [FailedStep(id: "bad", component: "/app/fail", code: "BOOM", message: "it broke")])
    }

    @Test func independentStepsRunConcurrentlyUpToTheCap() async throws {
        let engine = Engine()
        let running = Mutex((now: 0, peak: 0))
        engine.register(route: "/app/slow") { input, _ in
            running.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            try await Task.sleep(for: .milliseconds(30))
            running.withLock { $0.now -= 1 }
            return input
        }
        var steps = ""
        var outputs = ""
        for i in 0..<12 {
            steps += "  - { id: s\(i), component: /app/slow, input: { i: \(i) } }\n"
            outputs += "  - { $step: s\(i), path: i }\n"
        }
        let flow = try Flow(yaml: "steps:\n\(steps)output:\n\(outputs)")
        let result = await engine.run(flow, input: [:], options: RunOptions(maxConcurrency: 4))
        #expect(result.status == .success)
        #expect(result.output == .array((0..<12).map { .int($0) }))
        #expect(running.withLock { $0.peak } == 4)
    }

    @Test func mustExecuteStepsRunEvenWhenNothingReadsThem() async throws {
        let (engine, calls) = engineRecordingCalls()
        let flow = try Flow(yaml: """
            steps:
              - { id: side, component: /app/tag, mustExecute: true, input: { value: 1 } }
              - { id: unused, component: /app/tag, input: { value: 2 } }
            output: done
            """)
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .success)
        #expect(calls.withLock { $0 } == ["side"])
        #expect(result.step("unused")?.status == .skipped)
    }

    @Test func runSyncBlocksUntilTheResult() throws {
        let (engine, _) = engineRecordingCalls()
        let flow = try Flow(yaml: "steps: [{id: s, component: /app/tag, input: {value: 5}}]\noutput: {$step: s, path: tagged}")
        let result = engine.runSync(flow, input: [:])
        #expect(result.output == 5)
    }

    @Test func longChainRunsWithoutDeepRecursion() async throws {
        let engine = Engine()
        var yaml = "steps:\n  - { id: s0, component: /builtin/create_messages, input: { user_prompt: start } }\n"
        for i in 1..<20_000 {
            yaml += "  - { id: s\(i), component: /builtin/create_messages, input: { user_prompt: { $step: s\(i - 1), path: '$.messages[0].content' } } }\n"
        }
        yaml += "output: { $step: s19999, path: '$.messages[0].content' }\n"
        let flow = try Flow(yaml: yaml)
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .success)
        #expect(result.output == "start")
    }
}

@Suite struct LiteralFoldingTests {
    @Test func literalInsideAConstantObjectIsUnwrapped() async throws {
        let flow = try Flow(yaml: "steps: []\noutput: { a: { $literal: { $input: x } }, b: [1, { $literal: { $step: y } }] }")
        let result = await Engine().run(flow, input: [:])
        #expect(result.output == ["a": ["$input": "x"], "b": [1, ["$step": "y"]]])
    }
}

/// The blocking-call pool's threads start and stop explicitly, and the locks under it.
@Suite struct BlockingCallPoolTests {
    @Test func engineShutdownStopsThePoolThreadsAndWaitsForThem() async {
        let engine = Engine(blockingThreads: 3)
        #expect(engine.pool.liveThreads == 3)
        await engine.shutdown()
        #expect(engine.pool.liveThreads == 0)
    }

    @Test func jobsSubmittedBeforeStartRunOnceItStarts() async {
        let pool = BlockingCallPool(threads: 2)
        #expect(pool.liveThreads == 0)
        let order = Mutex<[Int]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            pool.submit { order.withLock { $0.append(1) } }
            pool.submit {
                order.withLock { $0.append(2) }
                done.resume()
            }
            pool.start()
        }
        pool.shutdown()
        await pool.awaitTermination()
        #expect(pool.liveThreads == 0)
        #expect(order.withLock { $0 }.sorted() == [1, 2])
    }

    /// A thread stuck in an abandoned call is replaced, not waited for by shutdown, and retires
    /// once its call returns.
    @Test(.timeLimit(.minutes(1))) func shutdownDoesNotWaitForAThreadStuckInAnAbandonedCall() async throws {
        let clock = TestClock()
        let engine = Engine(blockingThreads: 1, clock: clock)
        let hold = try HoldPlugin()
        defer { hold.release() }
        try engine.loadPlugin(at: hold.path)
        let flow = try Flow(yaml: "steps: [{id: stuck, component: /hold/hold, timeout: 0.1, mustExecute: true, onError: {action: continue}}]\noutput: done")
        let run = Task { await engine.run(flow, input: [:], options: RunOptions(gracePeriod: .milliseconds(50))) }
        try await RunBehaviourTests.passTimeoutAndGrace(clock, timeout: .milliseconds(100), grace: .milliseconds(50))
        let result = await run.value
        #expect(result.step("stuck")?.error?.code == "TIMEOUT")
        // The stuck thread and the one started in its place.
        #expect(engine.pool.liveThreads == 2)
        await engine.shutdown()
        #expect(engine.pool.liveThreads == 1)
        hold.release()
        while engine.pool.liveThreads > 0 { try await Task.sleep(for: .milliseconds(1)) }
    }

    @Test func semaphoreCountsSignalsAndWakesAWaitingThread() {
        let semaphore = Semaphore()
        semaphore.signal()
        semaphore.signal()
        semaphore.wait()
        semaphore.wait()
        let handedOver = Mutex(false)
        let thread = Thread {
            handedOver.withLock { $0 = true }
            semaphore.signal()
        }
        thread.start()
        semaphore.wait()
        #expect(handedOver.withLock { $0 })
    }

    @Test func conditionLockWaitsUntilItsValueIsReady() async {
        let lock = ConditionLock(0)
        let seen = Mutex<Int?>(nil)
        let finished = Semaphore()
        let waiter = Thread {
            let value = lock.withLock(whenReady: { $0 >= 3 }) { $0 }
            seen.withLock { $0 = value }
            finished.signal()
        }
        waiter.start()
        for _ in 0..<3 {
            lock.withLock { $0 += 1 }
            lock.signal()
        }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                finished.wait()
                done.resume()
            }.start()
        }
        #expect(seen.withLock { $0 } == 3)
    }
}
