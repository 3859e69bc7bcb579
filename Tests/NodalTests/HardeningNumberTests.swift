import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Issue 11, hostile trial: numbers converted unchecked. `maxRetries` of 2^63 or `.inf` crashed
/// `validate`; `timeout: 1e300`, `.inf` or `Int.max` and retry `multiplier`/`maxInterval: 1e308`
/// validated and then crashed `run` (SIGILL converting to Duration or Int). Every numeric key is
/// now range-checked when the flow is read, and no conversion on the way can trap.
@Suite struct HardeningNumberTests {
    static func step(_ extra: String) -> String {
        "steps: [{ id: s, component: /builtin/create_messages, input: { user_prompt: hi }, \(extra) }]\noutput: { $step: s }\n"
    }

    func readError(_ yaml: String) -> FlowError? {
        do {
            _ = try Flow(yaml: yaml, file: "numbers.yaml")
            Issue.record("expected the flow to be refused: \(yaml)")
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        ("timeout: 1e300", "timeout", "1e+300"), ("timeout: .inf", "timeout", "inf"), ("timeout: -.inf", "timeout", "-inf"),
        ("timeout: .nan", "timeout", "nan"), ("timeout: 9223372036854775807", "timeout", "9223372036854775807"),
        ("timeout: 0", "timeout", "0"), ("timeout: -1", "timeout", "-1"), ("timeout: 31536001", "timeout", "31536001"),
        ("onError: { action: retry, maxRetries: 9223372036854775808 }", "onError.maxRetries", "9.223372036854776e+18"),
        ("onError: { action: retry, maxRetries: 18446744073709551616 }", "onError.maxRetries", "1.8446744073709552e+19"),
        ("onError: { action: retry, maxRetries: .inf }", "onError.maxRetries", "inf"),
        ("onError: { action: retry, maxRetries: 1.5 }", "onError.maxRetries", "1.5"),
        ("onError: { action: retry, maxRetries: -1 }", "onError.maxRetries", "-1"),
        ("onError: { action: retry, maxRetries: 10001 }", "onError.maxRetries", "10001"),
        ("onError: { action: retry, multiplier: 1e308 }", "onError.multiplier", "1e+308"),
        ("onError: { action: retry, maxInterval: 1e308 }", "onError.maxInterval", "1e+308"),
        ("onError: { action: retry, initialInterval: .inf }", "onError.initialInterval", "inf"),
        ("onError: { action: retry, jitter: 2 }", "onError.jitter", "2"),
        ("onError: { action: retry, jitter: -0.5 }", "onError.jitter", "-0.5"),
    ])
    func anOutOfRangeNumberIsRefusedNamingFileStepFieldValueAndRange(key: String, field: String, shown: String) throws {
        let error = try #require(readError(Self.step(key)))
        #expect(error.file == "numbers.yaml")
        #expect(error.step == "s")
        #expect(error.field == field)
        #expect(error.message.contains(shown), "\(error)")
        #expect(error.message.contains("out of range: must be a"), "\(error)")
        #expect(error.message.contains(" to ") || error.message.contains("at most"), "\(error)")
    }

    @Test func theRangesAreWhatTheREADMESays() throws {
        #expect(readError(Self.step("timeout: 1e300"))?.message == "1e+300 is out of range: must be a number of seconds greater than 0, at most 31536000")
        #expect(readError(Self.step("onError: { action: retry, maxRetries: 1e19 }"))?.message == "1e+19 is out of range: must be a whole number from 0 to 10000")
        #expect(readError(Self.step("onError: { action: retry, maxInterval: 86401 }"))?.message == "86401 is out of range: must be a number of seconds from 0 to 86400")
        #expect(readError(Self.step("onError: { action: retry, multiplier: 1001 }"))?.message == "1001 is out of range: must be a number from 0 to 1000")
        #expect(readError(Self.step("timeout: ten"))?.message == "string is not a number: must be a number of seconds greater than 0, at most 31536000")
        // The largest values still read.
        let flow = try Flow(yaml: Self.step("timeout: 31536000, onError: { action: retry, maxRetries: 10000, initialInterval: 86400, maxInterval: 86400, multiplier: 1000, jitter: 1 }"))
        #expect(flow.steps[0].timeout == 31_536_000)
        #expect(flow.steps[0].onError == .retry(RetryPolicy(maxRetries: 10_000, initialInterval: .seconds(86_400), multiplier: 1_000, maxInterval: .seconds(86_400), jitter: 1)))
    }

    @Test func aFlowGivenAtRunTimeIsCheckedTheSameWayAndFailsItsStepNotTheProcess() async throws {
        let engine = Engine()
        let bad: JSON = ["steps": [["id": "s", "component": "/builtin/create_messages", "input": ["user_prompt": "hi"], "timeout": 1e300]], "output": "x"]
        for builtin in ["eval", "map", "iterate"] {
            let input: String = switch builtin {
            case "eval": "{ flow: { $input: flow }, input: {} }"
            case "map": "{ workflow: { $input: flow }, items: [1] }"
            default: "{ flow: { $input: flow }, initial_input: {} }"
            }
            let flow = try Flow(yaml: "steps: [{ id: run, component: /builtin/\(builtin), input: \(input) }]\noutput: { $step: run }\n")
            let result = await engine.run(flow, input: ["flow": bad])
            #expect(result.status == .failed, "\(builtin)")
            let error = try #require(result.step("run")?.error)
            #expect(error.code == "INVALID_INPUT")
            #expect(error.message.contains("field 'timeout': 1e+300 is out of range"), "\(error.message)")
        }
        // Also kept out of blobs that claim to be flows, and the engine goes on.
        let put = try Flow(yaml: "steps: [{ id: p, component: /builtin/put_blob, input: { data: { $input: flow }, blob_type: flow } }]\noutput: { $step: p }\n")
        #expect(await engine.run(put, input: ["flow": bad]).step("p")?.error?.code == "INVALID_INPUT")
        #expect(await engine.run(try Flow(yaml: "steps: []\noutput: 1\n"), input: [:]).output == 1)
    }

    @Test func anOverrideWithAnEnormousTimeoutRunsInsteadOfTrapping() async throws {
        let engine = Engine()
        engine.register(route: "/app/quick") { _, _ in "done" }
        let flow = try Flow(yaml: "steps: [{ id: q, component: /app/quick }]\noutput: { $step: q }\n")
        for seconds in [Duration.seconds(Int64.max), .seconds(Int64(Int32.max)), .zero, .nanoseconds(1)] {
            let options = RunOptions(stepOverrides: ["q": StepOverride(timeout: seconds)])
            let result = await engine.run(flow, input: [:], options: options)
            #expect(result.output == "done", "\(seconds)")
        }
    }

    @Test func aCheckpointWithAnEnormousAttemptCountResumesInsteadOfTrapping() async throws {
        let store = InMemoryRunStore()
        let engine = Engine()
        let broken = Mutex(true)
        engine.register(route: "/app/first") { _, _ in "first" }
        engine.register(route: "/app/second") { input, _ in
            if broken.withLock({ $0 }) { throw StepError(code: "BROKEN", message: "not yet") }
            return input
        }
        let directory = try temporaryDirectory(containing: ["flow.yaml": """
            steps:
              - { id: a, component: /app/first }
              - { id: b, component: /app/second, input: { $step: a } }
            output: { $step: b }
            """])
        let flow = try Flow(contentsOfFile: directory + "/flow.yaml")
        #expect(await engine.run(flow, input: [:], options: RunOptions(runID: "big", store: store)).status == .failed)
        // A store holds any Int; the scheduler counts attempts in 32 bits.
        try store.putCheckpoint(StepCheckpoint(runID: "big", stepID: "a", status: "success", output: "first", attempts: .max))
        broken.withLock { $0 = false }
        let resumed = try await engine.resume(runID: "big", store: store)
        #expect(resumed.output == "first")
        #expect(resumed.step("a")?.attempts == Int(Int32.max))
    }

    @Test func durationsAndRetryDelaysCannotTrapWhateverThePolicy() {
        #expect(Duration.clampedSeconds(1e300) == .seconds(31_536_000))
        #expect(Duration.clampedSeconds(.infinity) == .seconds(31_536_000))
        #expect(Duration.clampedSeconds(.nan) == .zero)
        #expect(Duration.clampedSeconds(-5) == .zero)
        #expect(Duration.clampedSeconds(1.5) == .milliseconds(1500))
        let huge = Duration.seconds(Int64.max)
        let policies = [
            RetryPolicy(maxRetries: .max, initialInterval: huge, multiplier: 1e308, maxInterval: huge, jitter: 5),
            RetryPolicy(maxRetries: .max, initialInterval: .seconds(1), multiplier: 1, maxInterval: .seconds(10)),
            RetryPolicy(maxRetries: .max, initialInterval: .seconds(1), multiplier: .nan, maxInterval: huge, jitter: .nan),
            RetryPolicy(maxRetries: .max, initialInterval: huge, multiplier: 0, maxInterval: .seconds(1)),
            RetryPolicy(maxRetries: .max, initialInterval: .seconds(1), multiplier: 0.5, maxInterval: .seconds(10)),
            RetryPolicy(maxRetries: .max, initialInterval: .seconds(1), multiplier: .infinity, maxInterval: huge),
            RetryPolicy(maxRetries: .max, initialInterval: .seconds(-5), multiplier: 2, maxInterval: .seconds(-1)),
        ]
        for policy in policies {
            for retry in [1, 2, 100, Int.max] {
                let delay = policy.delay(beforeRetry: retry)  // returns at once, even for Int.max
                #expect(delay >= .zero && delay <= .seconds(31_536_000), "\(policy) \(retry): \(delay)")
            }
        }
        #expect(RetryPolicy(maxRetries: 5, initialInterval: .seconds(1), multiplier: 2, maxInterval: .seconds(30)).delay(beforeRetry: 3) == .seconds(4))
    }
}
