import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalFFI
@testable import NodalJSON
@testable import NodalSQLite

/// Results, errors, retries, timeouts, cancellation, events and dry runs.
@Suite struct RunBehaviourTests {
    final class EventLog: Sendable {
        private let events = Mutex<[RunEvent]>([])
        func append(_ event: RunEvent) { events.withLock { $0.append(event) } }
        var all: [RunEvent] { events.withLock { $0 } }
        var names: [String] { all.map { $0.json["event"]?.stringValue ?? "?" } }
        func names(for step: String) -> [String] {
            all.filter { $0.json["step"]?.stringValue == step }.map { $0.json["event"]!.stringValue! }
        }
    }

    final class Counter: Sendable {
        private let value = Mutex(0)
        func next() -> Int { value.withLock { $0 += 1; return $0 } }
        var current: Int { value.withLock { $0 } }
    }

    static func nativeEngine(blockingThreads: Int? = nil) throws -> Engine {
        let engine = Engine(blockingThreads: blockingThreads, extensions: [.ffi])
        try engine.loadPlugin(at: Products.plugin("nodal_std"))
        return engine
    }

    @Test func continueSkipsDependentsAndRunsIndependentSteps() async throws {
        let engine = Engine(extensions: [.ffi])
        engine.register(route: "/app/fail") { _, _ in throw StepError(code: "NOPE", message: "no") }
        engine.register(route: "/app/echo") { input, _ in input }
        let flow = try Flow(yaml: """
            steps:
              - { id: bad, component: /app/fail, onError: { action: continue } }
              - { id: reader, component: /app/echo, input: { x: { $step: bad } } }
              - { id: reader2, component: /app/echo, input: { x: { $step: reader } } }
              - { id: tolerant, component: /app/echo, input: { x: { $coalesce: [ { $step: bad }, fallback ] } } }
              - { id: independent, component: /app/echo, input: { y: 1 } }
            output:
              a: { $step: reader2 }
              b: { $step: tolerant, path: x }
              c: { $step: independent, path: y }
            """)
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .failed)
        #expect(result.error?.code == "STEPS_FAILED")
        #expect(result.error?.steps.map(\.id) == ["bad"])
        #expect(result.step("bad")?.status == .failed)
        #expect(result.step("reader")?.status == .skipped)
        #expect(result.step("reader")?.skipReason?.contains("'bad'") == true)
        #expect(result.step("reader2")?.status == .skipped)
        #expect(result.step("tolerant")?.status == .success)
        #expect(result.step("independent")?.status == .success)
        // What could be built is returned; reads of skipped steps are null.
        #expect(result.output == ["a": nil, "b": "fallback", "c": 1])
    }

    @Test(.timeLimit(.minutes(1))) func retryBacksOffAndCountsAttempts() async throws {
        let clock = TestClock()
        let engine = Engine(clock: clock, extensions: [.ffi])
        let calls = Counter()
        engine.register(route: "/app/flaky") { _, _ in
            if calls.next() < 3 { throw StepError(code: "FLAKY", message: "try again") }
            return "ok"
        }
        let flow = try Flow(yaml: """
            steps:
              - id: s
                component: /app/flaky
                onError: { action: retry, maxRetries: 3, initialInterval: 0.05, multiplier: 2 }
            output: { $step: s }
            """)
        let log = EventLog()
        let run = Task { await engine.run(flow, input: [:], options: RunOptions(onEvent: log.append)) }
        // The first call failed: the run waits 0.05 s on the clock before the second.
        await clock.waitForSleepers(count: 1)
        #expect(calls.current == 1)
        #expect(clock.pendingDelays == [.milliseconds(50)])
        clock.advance(by: .milliseconds(40))
        #expect(clock.sleeperCount == 1, "the retry came before its delay was over")
        clock.advance(by: .milliseconds(10))
        // Then 0.1 s before the third.
        await clock.waitForSleepers(count: 1)
        #expect(calls.current == 2)
        #expect(clock.pendingDelays == [.milliseconds(100)])
        clock.advance(by: .milliseconds(100))
        let result = await run.value
        #expect(result.status == .success)
        #expect(result.output == "ok")
        #expect(result.step("s")?.attempts == 3)
        let retries = log.all.compactMap { event -> Duration? in
            if case .stepRetried(_, _, let delay, _) = event.kind { return delay } else { return nil }
        }
        #expect(retries == [.milliseconds(50), .milliseconds(100)])
        #expect(log.names(for: "s") == ["step.started", "step.retried", "step.started", "step.retried", "step.started", "step.succeeded"])
    }

    /// A sub-flow's steps wait on the engine's clock too: the retry inside it is due only when the
    /// test clock says so (on a real clock the test would hang until its time limit).
    @Test(.timeLimit(.minutes(1))) func stepsInsideASubflowWaitOnTheEnginesClock() async throws {
        let clock = TestClock()
        let engine = Engine(clock: clock, extensions: [.ffi])
        let calls = Counter()
        engine.register(route: "/app/flaky") { _, _ in
            if calls.next() < 2 { throw StepError(code: "FLAKY", message: "try again") }
            return "ok"
        }
        let directory = try temporaryDirectory(containing: [
            "inner.yaml": """
                steps:
                  - { id: s, component: /app/flaky, onError: { action: retry, maxRetries: 1, initialInterval: 30 } }
                output: { $step: s }
                """,
            "outer.yaml": "steps: [{id: sub, flow: inner.yaml}]\noutput: {$step: sub}",
        ])
        let flow = try Flow(contentsOfFile: directory + "/outer.yaml")
        let run = Task { await engine.run(flow, input: [:]) }
        await clock.waitForSleepers(count: 1)
        #expect(clock.pendingDelays == [.seconds(30)])
        clock.advance(by: .seconds(30))
        let result = await run.value
        #expect(result.output == "ok")
        #expect(result.step("sub")?.steps?.first?.attempts == 2)
    }

    @Test func retryJitterStaysWithinBounds() {
        let policy = RetryPolicy(maxRetries: 5, initialInterval: .seconds(1), multiplier: 2, maxInterval: .seconds(3), jitter: 0.5)
        for _ in 0..<100 {
            #expect((Duration.milliseconds(500)...Duration.milliseconds(1500)).contains(policy.delay(beforeRetry: 1)))
            #expect((Duration.milliseconds(1500)...Duration.milliseconds(4500)).contains(policy.delay(beforeRetry: 3)))  // capped at 3, then jittered
        }
    }

    @Test func useDefaultKeepsTheErrorVisible() async throws {
        let engine = Engine(extensions: [.ffi])
        engine.register(route: "/app/fail") { _, _ in throw StepError(code: "NOPE", message: "no") }
        let flow = try Flow(yaml: "steps: [{id: s, component: /app/fail, onError: {action: useDefault, defaultValue: 7}}]\noutput: {$step: s}")
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .success)
        #expect(result.output == 7)
        #expect(result.step("s")?.error?.code == "NOPE")
    }

    /// The stuck call never returns until the test releases it, so a run that waited for it would
    /// hang (and hit the time limit) instead of returning.
    /// A node flagged non-blocking would run inline, where nothing can stop it: with a `timeout:`
    /// it runs on the pool instead, so the timeout holds (a run that waited for it would hang).
    @Test(.timeLimit(.minutes(1))) func aTimeoutHoldsForANodeFlaggedNonBlocking() async throws {
        let clock = TestClock()
        let engine = Engine(clock: clock)
        let hold = try HoldPlugin()
        defer { hold.release() }
        try engine.loadPlugin(at: hold.path)
        let flow = try Flow(yaml: """
            steps:
              - { id: stuck, component: /hold/hold_inline, timeout: 0.2 }
            output: { $step: stuck }
            """)
        let run = Task { await engine.run(flow, input: [:], options: RunOptions(gracePeriod: .milliseconds(100))) }
        try await Self.passTimeoutAndGrace(clock, timeout: .milliseconds(200), grace: .milliseconds(100))
        let result = await run.value
        #expect(result.status == .failed)
        #expect(result.step("stuck")?.error?.code == "TIMEOUT")
    }

    /// Without a timeout the same node runs inline (no pool hop), as its flag asks.
    @Test func aNonBlockingNodeWithoutATimeoutRunsInline() async throws {
        let engine = Engine()
        let hold = try HoldPlugin()
        hold.release()
        try engine.loadPlugin(at: hold.path)
        let flow = try Flow(yaml: "steps: [{ id: s, component: /hold/hold_inline }]\noutput: { $step: s }")
        let result = await engine.run(flow, input: [:], options: RunOptions(dryRun: true))
        #expect(result.plan?.json.serialized().contains("inline") == true, "\(result.plan?.json.serialized() ?? "")")
    }

    @Test(.timeLimit(.minutes(1))) func timeoutOfABlockingNodeThatIgnoresCancellation() async throws {
        // One pool thread: the stuck call must not keep the next pooled call from running.
        let clock = TestClock()
        let engine = Engine(blockingThreads: 1, clock: clock, extensions: [.ffi])
        try engine.loadPlugin(at: Products.plugin("nodal_std"))
        let hold = try HoldPlugin()
        defer { hold.release() }
        try engine.loadPlugin(at: hold.path)
        let flow = try Flow(yaml: """
            steps:
              - { id: stuck, component: /hold/hold, timeout: 0.2, mustExecute: true, onError: { action: continue } }
              - { id: after, component: /std/increment_pooled, input: { value: 1 } }
            output: { $step: after, path: value }
            """)
        let run = Task { await engine.run(flow, input: [:], options: RunOptions(gracePeriod: .milliseconds(100))) }
        try await Self.passTimeoutAndGrace(clock, timeout: .milliseconds(200), grace: .milliseconds(100))
        let result = await run.value
        #expect(hold.entered == 1)
        #expect(result.step("stuck")?.status == .failed)
        #expect(result.step("stuck")?.error?.code == "TIMEOUT")
        #expect(result.step("after")?.status == .success)
        #expect(result.output == 2)
    }

    /// Lets a step's timeout pass, then the grace period the run gives the stopped call.
    static func passTimeoutAndGrace(_ clock: TestClock, timeout: Duration, grace: Duration) async throws {
        await clock.waitForSleepers(count: 1)
        #expect(clock.pendingDelays == [timeout])
        clock.advance(by: timeout)
        await clock.waitForSleepers(count: 1)
        #expect(clock.pendingDelays == [grace])
        clock.advance(by: grace)
    }

    @Test(.timeLimit(.minutes(1))) func timeoutOfAStuckFFICallReplacesItsPoolThread() async throws {
        let clock = TestClock()
        let engine = Engine(blockingThreads: 1, clock: clock, extensions: [.ffi])
        let hold = try HoldPlugin()
        defer { hold.release() }
        try engine.allowFFI(library: hold.path, symbols: ["nodal_test_hold": "() -> int32"])
        try engine.allowFFI(library: "libc.so.6", symbols: ["usleep": "(uint32) -> int32"])
        let flow = try Flow(yaml: """
            steps:
              - id: stuck
                component: /builtin/ffi
                input: { library: "\(hold.path)", symbol: nodal_test_hold, signature: "() -> int32", args: [] }
                timeout: 0.2
                mustExecute: true
                onError: { action: continue }
              - id: after
                component: /builtin/ffi
                input: { library: libc.so.6, symbol: usleep, signature: "(uint32) -> int32", args: [1000] }
            output: { $step: after, path: result }
            """)
        let run = Task { await engine.run(flow, input: [:], options: RunOptions(gracePeriod: .milliseconds(100))) }
        try await Self.passTimeoutAndGrace(clock, timeout: .milliseconds(200), grace: .milliseconds(100))
        let result = await run.value
        #expect(hold.entered == 1)
        #expect(result.step("stuck")?.error?.code == "TIMEOUT")
        #expect(result.step("after")?.status == .success)
        #expect(result.output == 0)
    }

    /// The grace period (on the test clock) never passes, so the run can only end because the node
    /// saw is_cancelled and returned; its 10-minute sleep would hit the time limit otherwise.
    @Test(.timeLimit(.minutes(1))) func timeoutOfACancellableNodeStopsItThroughTheABI() async throws {
        let clock = TestClock()
        let engine = Engine(clock: clock, extensions: [.ffi])
        try engine.loadPlugin(at: Products.plugin("nodal_std"))
        let flow = try Flow(yaml: "steps: [{id: s, component: /std/sleep, input: {ms: 600000}, timeout: 0.1}]\noutput: {$step: s}")
        let run = Task { await engine.run(flow, input: [:], options: RunOptions(gracePeriod: .seconds(3))) }
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .milliseconds(100))
        let result = await run.value
        #expect(result.step("s")?.error?.code == "TIMEOUT")
        #expect(clock.now == TestClock.Instant(offset: .milliseconds(100)))
    }

    @Test(.timeLimit(.minutes(1))) func timeoutOfAnAsyncNodeCancelsItsTask() async throws {
        let clock = TestClock()
        let engine = Engine(clock: clock, extensions: [.ffi])
        let sawCancellation = Counter()
        engine.register(route: "/app/slow") { _, _ in
            do { try await Task.sleep(for: .seconds(600)) } catch { _ = sawCancellation.next(); throw error }
            return "late"
        }
        let flow = try Flow(yaml: "steps: [{id: s, component: /app/slow, timeout: 0.1}]\noutput: {$step: s}")
        let run = Task { await engine.run(flow, input: [:]) }
        await clock.waitForSleepers(count: 1)
        clock.advance(by: .milliseconds(100))
        let result = await run.value
        #expect(result.step("s")?.error?.code == "TIMEOUT")
        #expect(sawCancellation.current == 1)
    }

    @Test func stepOverridesChangeOneStepForOneRun() async throws {
        let engine = Engine(extensions: [.ffi])
        engine.register(route: "/app/fail") { _, _ in throw StepError(code: "NOPE", message: "no") }
        let flow = try Flow(yaml: "steps: [{id: s, component: /app/fail}]\noutput: {$step: s}")
        let result = await engine.run(flow, input: [:], options: RunOptions(stepOverrides: ["s": StepOverride(onError: .useDefault("patched"))]))
        #expect(result.output == "patched")
    }

    /// `blocking` never returns until released (it ignores cancellation), `polite` and `swift` stop
    /// when told, `later` waits for `polite`.
    func slowFlow() throws -> Flow {
        try Flow(yaml: """
            steps:
              - { id: blocking, component: /hold/hold }
              - { id: polite, component: /std/sleep, input: { ms: 600000 } }
              - { id: swift, component: /app/wait }
              - { id: later, component: /std/increment, input: { value: { $step: polite, path: slept_ms } } }
            output: [{ $step: blocking }, { $step: swift }, { $step: later }]
            """)
    }

    func engineWithWaitNode(clock: TestClock, hold: HoldPlugin) throws -> Engine {
        let engine = Engine(clock: clock, extensions: [.ffi])
        try engine.loadPlugin(at: Products.plugin("nodal_std"))
        try engine.loadPlugin(at: hold.path)
        engine.register(route: "/app/wait") { _, _ in
            try await Task.sleep(for: .seconds(600))
            return "late"
        }
        return engine
    }

    /// Step-started events, as a stream a test can wait on.
    final class StartedSteps: Sendable {
        let stream: AsyncStream<String>
        private let sink: AsyncStream<String>.Continuation

        init() { (stream, sink) = AsyncStream.makeStream(of: String.self) }

        func record(_ event: RunEvent) {
            if case .stepStarted(let step, _) = event.kind { sink.yield(step) }
        }

        /// Returns once `count` steps have started.
        func wait(for count: Int) async {
            var seen = 0
            for await _ in stream {
                seen += 1
                if seen == count { return }
            }
        }
    }

    /// The blocking call never returns, so the run ends only because the grace period (on the
    /// test clock) passed and it abandoned the call.
    @Test(.timeLimit(.minutes(1))) func cancellationFromAnotherThread() async throws {
        let clock = TestClock()
        let hold = try HoldPlugin()
        defer { hold.release() }
        let engine = try engineWithWaitNode(clock: clock, hold: hold)
        let token = CancellationToken()
        let started = StartedSteps()
        let flow = try slowFlow()
        let run = Task {
            await engine.run(flow, input: [:], options: RunOptions(cancellation: token, onEvent: started.record, gracePeriod: .milliseconds(200)))
        }
        await started.wait(for: 3)
        let thread = Thread { token.cancel() }
        thread.start()
        await clock.waitForSleepers(count: 1)
        #expect(clock.pendingDelays == [.milliseconds(200)])
        clock.advance(by: .milliseconds(200))
        let result = await run.value
        #expect(result.status == .canceled)
        #expect(result.step("blocking")?.status == .canceled)
        #expect(result.step("polite")?.status == .canceled)
        #expect(result.step("swift")?.status == .canceled)
        #expect(result.step("later")?.status == .notRun)
    }

    /// A canceled task stops waiting at once: the result comes back with the blocking call still
    /// held and the clock never advanced.
    @Test(.timeLimit(.minutes(1))) func cancellingTheTaskCancelsTheRun() async throws {
        let clock = TestClock()
        let hold = try HoldPlugin()
        defer { hold.release() }
        let engine = try engineWithWaitNode(clock: clock, hold: hold)
        let flow = try slowFlow()
        let started = StartedSteps()
        let task = Task { await engine.run(flow, input: [:], options: RunOptions(onEvent: started.record)) }
        await started.wait(for: 3)
        task.cancel()
        let result = await task.value
        #expect(result.status == .canceled)
        #expect(result.steps.filter { $0.status == .canceled }.count == 3)
        #expect(clock.now == TestClock.Instant(offset: .zero))
    }

    @Test func eventsArriveInOrderForEachStep() async throws {
        let engine = try Self.nativeEngine()
        let flow = try Flow(yaml: """
            steps:
              - { id: log, component: /std/log, input: { message: hello, steps: 2 } }
              - { id: up, component: /std/upper, input: { text: { $step: log, path: logged } } }
            output: { $step: up }
            """)
        let log = EventLog()
        let result = await engine.run(flow, input: [:], options: RunOptions(onEvent: log.append))
        #expect(result.status == .success)
        #expect(log.names.first == "run.started")
        #expect(log.names.last == "run.succeeded")
        #expect(log.names(for: "log") == ["step.started", "step.log", "step.progress", "step.progress", "step.succeeded"])
        #expect(log.names(for: "up") == ["step.started", "step.succeeded"])
        let progress = log.all.compactMap { event -> Double? in
            if case .progress(_, let fraction, _) = event.kind { return fraction } else { return nil }
        }
        #expect(progress == [0.5, 1.0])
    }

    @Test func startGivesEventsAsAnAsyncSequence() async throws {
        let engine = Engine(extensions: [.ffi])
        engine.register(route: "/app/echo") { input, _ in input }
        let flow = try Flow(yaml: "steps: [{id: a, component: /app/echo, input: 1}, {id: b, component: /app/echo, input: {$step: a}}]\noutput: {$step: b}")
        let handle = engine.start(flow, input: [:], options: RunOptions(runID: "run-1"))
        var names: [String] = []
        for await event in handle.events {
            #expect(event.runID == "run-1")
            names.append(event.json["event"]!.stringValue!)
        }
        #expect(names == ["run.started", "step.started", "step.succeeded", "step.started", "step.succeeded", "run.succeeded"])
        let result = await handle.result
        #expect(result.runID == "run-1")
        #expect(result.output == 1)
    }

    @Test func dryRunExecutesNothing() async throws {
        let engine = Engine(extensions: [.ffi])
        let marker = try temporaryDirectory() + "/written"
        engine.register(route: "/app/write") { input, _ in
            try "x".write(toFile: marker, atomically: true, encoding: .utf8)
            return input
        }
        let flow = try Flow(yaml: """
            steps:
              - { id: w, component: /app/write, input: { name: { $input: name } } }
              - { id: msg, component: /builtin/create_messages, input: { user_prompt: { $step: w, path: name } } }
            output: { $step: msg }
            """)
        let result = await engine.run(flow, input: ["name": "ada"], options: RunOptions(dryRun: true))
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(result.steps.allSatisfy { $0.status == .notRun })
        let plan = try #require(result.plan)
        #expect(plan.steps.map(\.id) == ["w", "msg"])
        #expect(plan.steps[0].input == ["name": "ada"])
        #expect(plan.steps[0].execution == "async")
        #expect(plan.steps[1].input == nil)
        #expect(plan.steps[1].dependsOn == ["w"])
        #expect(plan.steps[1].inputNote?.contains("'w'") == true)
    }

    @Test func invalidUTF8FromAPluginFailsTheStepSayingSo() async throws {
        let directory = try temporaryDirectory()
        let source = """
            #include "nodal.h"
            static nodal_status bad(const nodal_node *n, const nodal_host *h, nodal_call *c, const char *in, size_t len) {
                (void)n; (void)in; (void)len;
                static const char out[] = { '"', (char)0xC3, (char)0x28, '"' };
                return h->write_output(c, out, sizeof out);
            }
            static const nodal_node node = { sizeof(nodal_node), 0, "org.test.utf8.bad", "bad", "1.0.0", NULL,
                NODAL_NODE_THREAD_SAFE | NODAL_NODE_NON_BLOCKING, NULL, NULL, NULL, NULL, bad };
            static const nodal_node *const nodes[] = { &node };
            static const nodal_plugin plugin = { sizeof(nodal_plugin), NODAL_ABI_MAJOR, NODAL_ABI_MINOR, 1,
                "org.test.utf8", "utf8", "1.0.0", NULL, NULL, NULL, nodes, NULL, NULL, NULL };
            NODAL_EXPORT const nodal_plugin *nodal_plugin_entry_v1(uint32_t a, uint32_t b) { (void)a; (void)b; return &plugin; }
            """
        let engine = Engine(extensions: [.ffi])
        try engine.loadPlugin(at: try buildCPlugin(source, name: "utf8", in: directory))
        let result = await engine.run(try Flow(yaml: "steps: [{id: s, component: /utf8/bad}]\noutput: {$step: s}"), input: [:])
        #expect(result.step("s")?.error?.code == "INVALID_OUTPUT")
        #expect(result.step("s")?.error?.message.contains("UTF-8") == true)
    }

    @Test func resultCarriesIdsTimesAndInput() async throws {
        let engine = Engine(extensions: [.ffi])
        engine.register(route: "/app/echo") { input, _ in input }
        let flow = try Flow(yaml: "steps: [{id: a, component: /app/echo, input: {$input: x}}]\noutput: {$step: a}")
        let result = await engine.run(flow, input: ["x": 5], options: RunOptions(runID: "my-run"))
        #expect(result.runID == "my-run")
        #expect(result.input == ["x": 5])
        #expect(result.endedAt >= result.startedAt)
        let step = try #require(result.step("a"))
        #expect(step.startedAt != nil && step.endedAt != nil)
        let generated = await engine.run(flow, input: ["x": 5])
        #expect(UUID(uuidString: generated.runID) != nil)
    }
}
