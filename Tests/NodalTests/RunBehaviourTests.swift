import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import Nodal

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
        let engine = Engine(blockingThreads: blockingThreads)
        try engine.loadPlugin(at: Products.plugin("nodal_std"))
        return engine
    }

    @Test func continueSkipsDependentsAndRunsIndependentSteps() async throws {
        let engine = Engine()
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

    @Test func retryBacksOffAndCountsAttempts() async throws {
        let engine = Engine()
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
        let clock = ContinuousClock()
        let start = clock.now
        let result = await engine.run(flow, input: [:], options: RunOptions(onEvent: log.append))
        let elapsed = clock.now - start
        #expect(result.status == .success)
        #expect(result.output == "ok")
        #expect(result.step("s")?.attempts == 3)
        #expect(elapsed >= .milliseconds(150))  // 0.05 s, then 0.1 s
        let retries = log.all.compactMap { event -> Double? in
            if case .stepRetried(_, _, let delay, _) = event.kind { return delay } else { return nil }
        }
        #expect(retries == [0.05, 0.1])
        #expect(log.names(for: "s") == ["step.started", "step.retried", "step.started", "step.retried", "step.started", "step.succeeded"])
    }

    @Test func retryJitterStaysWithinBounds() {
        let policy = RetryPolicy(maxRetries: 5, initialInterval: 1, multiplier: 2, maxInterval: 3, jitter: 0.5)
        for _ in 0..<100 {
            #expect((0.5...1.5).contains(policy.delay(beforeRetry: 1)))
            #expect((1.5...4.5).contains(policy.delay(beforeRetry: 3)))  // capped at 3, then jittered
        }
    }

    @Test func useDefaultKeepsTheErrorVisible() async throws {
        let engine = Engine()
        engine.register(route: "/app/fail") { _, _ in throw StepError(code: "NOPE", message: "no") }
        let flow = try Flow(yaml: "steps: [{id: s, component: /app/fail, onError: {action: useDefault, defaultValue: 7}}]\noutput: {$step: s}")
        let result = await engine.run(flow, input: [:])
        #expect(result.status == .success)
        #expect(result.output == 7)
        #expect(result.step("s")?.error?.code == "NOPE")
    }

    @Test func timeoutOfABlockingNodeThatIgnoresCancellation() async throws {
        // One pool thread: the stuck call must not keep the next pooled call from running.
        let engine = try Self.nativeEngine(blockingThreads: 1)
        let flow = try Flow(yaml: """
            steps:
              - { id: stuck, component: /std/sleep_uncancellable, input: { ms: 3000 }, timeout: 0.2, mustExecute: true, onError: { action: continue } }
              - { id: after, component: /std/increment_pooled, input: { value: 1 } }
            output: { $step: after, path: value }
            """)
        let clock = ContinuousClock()
        let start = clock.now
        let result = await engine.run(flow, input: [:], options: RunOptions(gracePeriod: .milliseconds(100)))
        let elapsed = clock.now - start
        #expect(result.step("stuck")?.status == .failed)
        #expect(result.step("stuck")?.error?.code == "TIMEOUT")
        #expect(result.step("after")?.status == .success)
        #expect(result.output == 2)
        #expect(elapsed < .milliseconds(2000), "the run waited for the stuck thread: \(elapsed)")
    }

    @Test func timeoutOfAStuckFFICallReplacesItsPoolThread() async throws {
        let engine = Engine(blockingThreads: 1)
        engine.allowFFI(library: "libc.so.6", symbols: ["usleep"])
        let flow = try Flow(yaml: """
            steps:
              - id: stuck
                component: /builtin/ffi
                input: { library: libc.so.6, symbol: usleep, signature: "(uint32) -> int32", args: [3000000] }
                timeout: 0.2
                mustExecute: true
                onError: { action: continue }
              - id: after
                component: /builtin/ffi
                input: { library: libc.so.6, symbol: usleep, signature: "(uint32) -> int32", args: [1000] }
            output: { $step: after, path: result }
            """)
        let clock = ContinuousClock()
        let start = clock.now
        let result = await engine.run(flow, input: [:], options: RunOptions(gracePeriod: .milliseconds(100)))
        #expect(result.step("stuck")?.error?.code == "TIMEOUT")
        #expect(result.step("after")?.status == .success)
        #expect(result.output == 0)
        #expect(clock.now - start < .milliseconds(2000), "the run waited for the stuck FFI call")
    }

    @Test func timeoutOfACancellableNodeStopsItThroughTheABI() async throws {
        let engine = try Self.nativeEngine()
        let flow = try Flow(yaml: "steps: [{id: s, component: /std/sleep, input: {ms: 5000}, timeout: 0.1}]\noutput: {$step: s}")
        let clock = ContinuousClock()
        let start = clock.now
        let result = await engine.run(flow, input: [:], options: RunOptions(gracePeriod: .seconds(3)))
        #expect(result.step("s")?.error?.code == "TIMEOUT")
        // The node saw is_cancelled and returned well before the grace period ran out.
        #expect(clock.now - start < .milliseconds(1500))
    }

    @Test func timeoutOfAnAsyncNodeCancelsItsTask() async throws {
        let engine = Engine()
        let sawCancellation = Counter()
        engine.register(route: "/app/slow") { _, _ in
            do { try await Task.sleep(for: .seconds(10)) } catch { _ = sawCancellation.next(); throw error }
            return "late"
        }
        let flow = try Flow(yaml: "steps: [{id: s, component: /app/slow, timeout: 0.1}]\noutput: {$step: s}")
        let result = await engine.run(flow, input: [:])
        #expect(result.step("s")?.error?.code == "TIMEOUT")
        #expect(sawCancellation.current == 1)
    }

    @Test func stepOverridesChangeOneStepForOneRun() async throws {
        let engine = Engine()
        engine.register(route: "/app/fail") { _, _ in throw StepError(code: "NOPE", message: "no") }
        let flow = try Flow(yaml: "steps: [{id: s, component: /app/fail}]\noutput: {$step: s}")
        let result = await engine.run(flow, input: [:], options: RunOptions(stepOverrides: ["s": StepOverride(onError: .useDefault("patched"))]))
        #expect(result.output == "patched")
    }

    func slowFlow() throws -> Flow {
        try Flow(yaml: """
            steps:
              - { id: blocking, component: /std/sleep_uncancellable, input: { ms: 3000 } }
              - { id: polite, component: /std/sleep, input: { ms: 3000 } }
              - { id: swift, component: /app/wait }
              - { id: later, component: /std/increment, input: { value: { $step: polite, path: slept_ms } } }
            output: [{ $step: blocking }, { $step: swift }, { $step: later }]
            """)
    }

    func engineWithWaitNode() throws -> Engine {
        let engine = try Self.nativeEngine()
        engine.register(route: "/app/wait") { _, _ in
            try await Task.sleep(for: .seconds(10))
            return "late"
        }
        return engine
    }

    @Test func cancellationFromAnotherThread() async throws {
        let engine = try engineWithWaitNode()
        let token = CancellationToken()
        let thread = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            token.cancel()
        }
        thread.start()
        let clock = ContinuousClock()
        let start = clock.now
        let result = await engine.run(try slowFlow(), input: [:], options: RunOptions(cancellation: token, gracePeriod: .milliseconds(200)))
        #expect(result.status == .canceled)
        #expect(clock.now - start < .milliseconds(1500))
        #expect(result.step("blocking")?.status == .canceled)
        #expect(result.step("polite")?.status == .canceled)
        #expect(result.step("swift")?.status == .canceled)
        #expect(result.step("later")?.status == .notRun)
    }

    @Test func cancellingTheTaskCancelsTheRun() async throws {
        let engine = try engineWithWaitNode()
        let flow = try slowFlow()
        let task = Task { await engine.run(flow, input: [:]) }
        try await Task.sleep(for: .milliseconds(200))
        let clock = ContinuousClock()
        let start = clock.now
        task.cancel()
        let result = await task.value
        #expect(result.status == .canceled)
        #expect(clock.now - start < .milliseconds(500))
        #expect(result.steps.filter { $0.status == .canceled }.count == 3)
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
        let engine = Engine()
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
        let engine = Engine()
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
        let engine = Engine()
        try engine.loadPlugin(at: try buildCPlugin(source, name: "utf8", in: directory))
        let result = await engine.run(try Flow(yaml: "steps: [{id: s, component: /utf8/bad}]\noutput: {$step: s}"), input: [:])
        #expect(result.step("s")?.error?.code == "INVALID_OUTPUT")
        #expect(result.step("s")?.error?.message.contains("UTF-8") == true)
    }

    @Test func resultCarriesIdsTimesAndInput() async throws {
        let engine = Engine()
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
