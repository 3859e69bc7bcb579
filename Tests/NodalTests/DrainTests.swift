import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// `RunOptions.drain`: a run stops starting steps, lets the running ones finish and checkpoint,
/// ends `canceled`/`DRAINED`, and a resume goes on from there. No wall clock: calls are held until
/// the test lets them go, and retry waits are on a `TestClock`.
@Suite("Drain")
struct DrainTests {
    /// Holds the calls of the steps it names until the test releases them.
    final class Holds: Sendable {
        private let held: Set<String>
        private let entered: AsyncStream<String>
        private let enteredSink: AsyncStream<String>.Continuation
        private let released: AsyncStream<Void>
        private let releasedSink: AsyncStream<Void>.Continuation

        init(_ held: Set<String>) {
            self.held = held
            (entered, enteredSink) = AsyncStream.makeStream()
            (released, releasedSink) = AsyncStream.makeStream()
        }

        /// In a node: returns at once for other steps, else once released (throws if the run
        /// stopped the call meanwhile).
        func pass(_ step: String) async throws {
            guard held.contains(step) else { return }
            enteredSink.yield(step)
            for await _ in released { break }
            try Task.checkCancellation()
        }

        /// Returns once a held call has entered, with its step.
        func waitForEntry() async -> String? {
            for await step in entered { return step }
            return nil
        }

        func release() { releasedSink.yield() }
    }

    final class Calls: Sendable {
        private let calls = Mutex<[String]>([])
        func record(_ step: String) { calls.withLock { $0.append(step) } }
        var all: [String] { calls.withLock { $0 } }
    }

    /// `/app/step` adds 1 to `n`, recording its call, held where `holds` says.
    func engine(_ calls: Calls, holds: Holds = Holds([]), clock: (any Clock<Duration>)? = nil) -> Engine {
        let engine = clock.map { Engine(clock: $0) } ?? Engine()
        engine.register(route: "/app/step") { input, context in
            calls.record(context.stepID)
            try await holds.pass(context.stepID)
            return ["n": .int((input["n"]?.intValue ?? 0) + 1)]
        }
        return engine
    }

    static let chain = """
        steps:
          - { id: a, component: /app/step, input: { n: { $input: start } } }
          - { id: b, component: /app/step, input: { n: { $step: a, path: n } } }
          - { id: c, component: /app/step, input: { n: { $step: b, path: n } } }
        output: { $step: c, path: n }
        """

    func makeStore(_ kind: String) async throws -> any RunStorage {
        kind == "memory" ? InMemoryRunStore() : try await SQLiteRunStore(path: try temporaryDirectory() + "/runs.db")
    }

    @Test(.timeLimit(.minutes(1)), arguments: ["memory", "sqlite"])
    func theRunningStepFinishesTheNextDoesNotStartAndAResumeRunsTheRest(store kind: String) async throws {
        let store = try await makeStore(kind)
        let calls = Calls()
        let holds = Holds(["a"])
        let flow = try Flow(yaml: Self.chain)
        let drain = CancellationToken()
        let engine = engine(calls, holds: holds)
        let run = Task {
            await engine.run(flow, input: ["start": 1], options: RunOptions(runID: "d1", store: store, drain: drain))
        }
        #expect(await holds.waitForEntry() == "a")
        drain.cancel()
        holds.release()
        let drained = await run.value
        #expect(drained.status == .canceled)
        #expect(drained.error?.code == "DRAINED")
        #expect(drained.error?.message == "the engine is shutting down; the run can be resumed")
        #expect(drained.step("a")?.status == .success)
        #expect(drained.step("a")?.output == ["n": 2])
        #expect(drained.step("b")?.status == .notRun)
        #expect(drained.step("c")?.status == .notRun)
        #expect(drained.output == nil)
        #expect(calls.all == ["a"])
        #expect(try await store.run(id: "d1")?.status == .canceled)
        #expect(try await store.run(id: "d1")?.result?["error"]?["code"] == "DRAINED")
        #expect(try await store.checkpoints(runID: "d1").map(\.stepID) == ["a"])
        #expect(try await store.lease(runID: "d1") == nil)

        // As a restarted server would: another engine, the flow given again.
        let resumed = try await self.engine(calls).resume(runID: "d1", store: store, flow: flow)
        #expect(resumed.status == .success)
        #expect(resumed.output == 4)
        #expect(calls.all == ["a", "b", "c"])
        #expect(try await store.run(id: "d1")?.status == .success)
        try await store.close()
    }

    @Test(.timeLimit(.minutes(1)))
    func aRunWhoseLastStepWasRunningEndsAsItWouldHave() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let calls = Calls()
        let holds = Holds(["c"])
        let drain = CancellationToken()
        let engine = engine(calls, holds: holds)
        let flow = try Flow(yaml: Self.chain)
        let run = Task { await engine.run(flow, input: ["start": 1], options: RunOptions(store: store, drain: drain)) }
        #expect(await holds.waitForEntry() == "c")
        drain.cancel()
        holds.release()
        let result = await run.value
        #expect(result.status == .success)
        #expect(result.error == nil)
        #expect(result.output == 4)
        #expect(calls.all == ["a", "b", "c"])
    }

    /// A retry waiting on a clock that never moves: without the drain the run would wait forever
    /// (the time limit); with it, the run ends at once, and the resume calls the step again.
    @Test(.timeLimit(.minutes(1)))
    func drainingARunWithNothingRunningEndsItAtOnce() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let clock = TestClock()
        let engine = Engine(clock: clock)
        let attempts = Mutex(0)
        engine.register(route: "/app/flaky") { _, _ in
            let attempt = attempts.withLock { $0 += 1; return $0 }
            if attempt == 1 { throw StepError(code: "FLAKY", message: "try again") }
            return "ok"
        }
        let flow = try Flow(yaml: """
            steps:
              - id: s
                component: /app/flaky
                onError: { action: retry, maxRetries: 3, initialInterval: 10 }
            output: { $step: s }
            """)
        let drain = CancellationToken()
        let run = Task { await engine.run(flow, input: [:], options: RunOptions(runID: "d3", store: store, drain: drain)) }
        // The lease's heartbeat and the retry's wait.
        await clock.waitForSleepers(count: 2)
        #expect(clock.pendingDelays.contains(.seconds(10)))
        drain.cancel()
        let drained = await run.value
        #expect(drained.status == .canceled)
        #expect(drained.error?.code == "DRAINED")
        #expect(drained.step("s")?.status == .notRun)
        #expect(attempts.withLock { $0 } == 1)
        #expect(try await store.checkpoints(runID: "d3").isEmpty)

        let resumed = try await engine.resume(runID: "d3", store: store, flow: flow)
        #expect(resumed.status == .success)
        #expect(resumed.output == "ok")
        #expect(attempts.withLock { $0 } == 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func aRunStartedWhileDrainingRunsNothing() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let calls = Calls()
        let drain = CancellationToken()
        drain.cancel()
        let flow = try Flow(yaml: Self.chain)
        let result = await engine(calls).run(flow, input: ["start": 1], options: RunOptions(runID: "d4", store: store, drain: drain))
        #expect(result.status == .canceled)
        #expect(result.error?.code == "DRAINED")
        #expect(result.steps.map(\.status) == [.notRun, .notRun, .notRun])
        #expect(calls.all.isEmpty)
        #expect(try await store.run(id: "d4")?.status == .canceled)

        let resumed = try await engine(calls).resume(runID: "d4", store: store, flow: flow)
        #expect(resumed.output == 4)
        #expect(calls.all == ["a", "b", "c"])
    }

    /// Without a store there is nothing to resume from, but the run drains the same way.
    @Test(.timeLimit(.minutes(1)))
    func aRunWithoutAStoreDrainsToo() async throws {
        let calls = Calls()
        let holds = Holds(["b"])
        let drain = CancellationToken()
        let engine = engine(calls, holds: holds)
        let flow = try Flow(yaml: Self.chain)
        let run = Task { await engine.run(flow, input: ["start": 1], options: RunOptions(drain: drain)) }
        #expect(await holds.waitForEntry() == "b")
        drain.cancel()
        holds.release()
        let result = await run.value
        #expect(result.error?.code == "DRAINED")
        #expect(result.steps.map(\.status) == [.success, .success, .notRun])
        #expect(calls.all == ["a", "b"])
    }

    @Test(.timeLimit(.minutes(1)))
    func cancellingWhileDrainingCancelsAtOnce() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let calls = Calls()
        let holds = Holds(["a"])
        let drain = CancellationToken()
        let cancel = CancellationToken()
        let engine = engine(calls, holds: holds)
        let flow = try Flow(yaml: Self.chain)
        let run = Task {
            await engine.run(flow, input: ["start": 1], options: RunOptions(runID: "d5", cancellation: cancel, store: store, drain: drain))
        }
        #expect(await holds.waitForEntry() == "a")
        drain.cancel()
        cancel.cancel()  // a is never released: the cancel stops its call
        let result = await run.value
        #expect(result.status == .canceled)
        #expect(result.error?.code == "CANCELED")
        #expect(result.step("a")?.status == .canceled)
        #expect(try await store.checkpoints(runID: "d5").isEmpty)
    }

    /// A sub-flow step's run drains with its parent's: its running step finishes and is
    /// checkpointed under the step's id, the step ends canceled (not failed, so its reader is not
    /// skipped), and the resume runs the rest of the sub-flow and then the reader.
    @Test(.timeLimit(.minutes(1)))
    func aSubflowStepDrainsAndResumesFromItsInnerCheckpoints() async throws {
        let folder = try temporaryDirectory(containing: [
            "outer.yaml": """
                steps:
                  - { id: sub, flow: inner.yaml, input: { start: { $input: start } } }
                  - { id: d, component: /app/step, input: { n: { $step: sub } } }
                output: { $step: d, path: n }
                """,
            "inner.yaml": """
                steps:
                  - { id: x, component: /app/step, input: { n: { $input: start } } }
                  - { id: y, component: /app/step, input: { n: { $step: x, path: n } } }
                output: { $step: y, path: n }
                """,
        ])
        let store: any RunStorage = InMemoryRunStore()
        let calls = Calls()
        let holds = Holds(["x"])
        let drain = CancellationToken()
        let engine = engine(calls, holds: holds)
        let flow = try Flow(contentsOfFile: folder + "/outer.yaml")
        let run = Task { await engine.run(flow, input: ["start": 1], options: RunOptions(runID: "d6", store: store, drain: drain)) }
        #expect(await holds.waitForEntry() == "x")
        drain.cancel()
        holds.release()
        let drained = await run.value
        #expect(drained.status == .canceled)
        #expect(drained.error?.code == "DRAINED")
        #expect(drained.step("sub")?.status == .canceled)
        #expect(drained.step("sub")?.error?.code == "DRAINED")
        #expect(drained.step("sub")?.steps?.map(\.status) == [.success, .notRun])
        #expect(drained.step("d")?.status == .notRun)
        #expect(calls.all == ["x"])
        #expect(try await store.checkpoints(runID: "d6").map(\.stepID) == ["sub.x"])

        let resumed = try await self.engine(calls).resume(runID: "d6", store: store)
        #expect(resumed.status == .success)
        #expect(resumed.output == 4)
        #expect(calls.all == ["x", "y", "d"])
    }
}
