import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

// Found by the hostile review: the embedding API used the way a hurried app developer does.

@Suite struct HostileEmbeddingTests {
    static func engine() -> Engine {
        let engine = Engine()
        engine.loadPlugins(searchPath: [Products.plugin("nodal_std")])
        return engine
    }

    static let pooled = try! Flow(yaml: """
        steps:
          - { id: s, component: /std/increment_pooled, input: { value: 1 } }
          - { id: t, component: /std/increment_pooled, input: { $step: s } }
        output: { $step: t, path: value }
        """)

    /// Used to fail every run with `INCOMPLETE: the run ended before its output could be
    /// evaluated`, naming no step: no step could ever start.
    @Test(arguments: [0, -1, Int.min])
    func aMaxConcurrencyBelowOneRunsOneStepAtATime(maxConcurrency: Int) async throws {
        let result = await Self.engine().run(Self.pooled, input: [:], options: RunOptions(maxConcurrency: maxConcurrency))
        #expect(result.status == .success, "\(result.error as Any)")
        #expect(result.output == 3)
    }

    /// Used to trap ("a job was submitted to a blocking-call pool that was shut down").
    @Test func aRunAfterShutdownStillRuns() async throws {
        let engine = Self.engine()
        await engine.shutdown()
        let result = await withinSeconds(20) { await engine.run(Self.pooled, input: [:]) }
        #expect(result?.status == .success, "\(result?.error as Any)")
        await engine.shutdown()  // twice is fine
    }

    /// A run in flight when its engine shuts down: its next pooled step used to trap.
    @Test func aRunInFlightWhenTheEngineShutsDownFinishes() async throws {
        let engine = Self.engine()
        let flow = try Flow(yaml: """
            steps:
              - { id: s, component: /std/sleep, input: { ms: 200 } }
              - { id: t, component: /std/increment_pooled, input: { value: 1, after: { $step: s } } }
            output: { $step: t, path: value }
            """)
        let handle = engine.start(flow, input: [:])
        try await Task.sleep(for: .milliseconds(50))
        await engine.shutdown()
        let result = await withinSeconds(20) { await handle.result }
        #expect(result?.status == .success, "\(result?.error as Any)")
    }
}

/// Values nested close to the limit, and records that hold them.
@Suite struct HostileDeepValueTests {
    static func nested(_ depth: Int) -> JSON {
        var value: JSON = 1
        for _ in 0..<depth { value = .array([value]) }
        return value
    }

    static let echo = try! Flow(yaml: "steps: [{ id: s, component: /std/echo, input: { x: { $input: x } } }]\noutput: { $step: s }")

    /// An input 510 levels deep is within the limit, but the run's record wraps it in a few
    /// levels of its own (`steps`, the step, its `input`). The store then refused to read the
    /// record back as "damaged", so `nodal runs list` failed with exit 74 for the whole store.
    @Test func aRecordHoldingAValueNearTheLimitReadsBack() async throws {
        let directory = try temporaryDirectory()
        let store = try await SQLiteRunStore(path: directory + "/runs.db")
        var options = RunOptions(runID: "deep")
        options.store = store
        let result = await HostileEmbeddingTests.engine().run(Self.echo, input: ["x": Self.nested(510)], options: options)
        #expect(result.status == .success, "\(result.error as Any)")
        let runs = try await store.listRuns(limit: 10)
        #expect(runs.map(\.id) == ["deep"])
        #expect(try await store.run(id: "deep")?.result != nil)
        #expect(try await store.checkpoints(runID: "deep").count == 1)
        try await store.close()
    }

    /// A recorded run whose values are checked on the way in.
    static func recorded(_ flow: Flow, input: JSON) async throws -> RunResult {
        let store = try await SQLiteRunStore(path: ":memory:")
        var options = RunOptions()
        options.store = store
        let result = await HostileEmbeddingTests.engine().run(flow, input: input, options: options)
        // Whatever happened, the store reads back what it recorded.
        _ = try await store.listRuns(limit: 10)
        try await store.close()
        return result
    }

    /// An expression may wrap a step's output in more levels than the limit leaves; that used to
    /// succeed and be recorded deeper than the store reads back.
    @Test func anOutputExpressionDeeperThanTheLimitFailsTheRun() async throws {
        let flow = try Flow(yaml: "steps: [{ id: s, component: /std/echo, input: { x: { $input: x } } }]\noutput: [[[[[{ $step: s }]]]]]")
        let result = try await Self.recorded(flow, input: ["x": Self.nested(509)])
        #expect(result.status == .failed)
        #expect(result.error?.code == "INVALID_OUTPUT")
        #expect(result.error?.message.contains("nests deeper than 512 levels") == true)
    }

    /// The same for a step's input: it fails with INPUT_ERROR instead of being recorded.
    @Test func aStepInputDeeperThanTheLimitFailsTheStep() async throws {
        let flow = try Flow(yaml: """
            steps:
              - { id: s, component: /std/echo, input: { x: { $input: x } } }
              - { id: t, component: /std/echo, input: [[[[[{ $step: s }]]]]] }
            output: { $step: t }
            """)
        let result = try await Self.recorded(flow, input: ["x": Self.nested(509)])
        #expect(result.step("t")?.error?.code == "INPUT_ERROR")
    }

    /// A run input built in code deeper than the limit (the command line's parser refuses it).
    @Test func aRunInputDeeperThanTheLimitIsRefused() async throws {
        let result = try await Self.recorded(Self.echo, input: ["x": Self.nested(600)])
        #expect(result.status == .failed)
        #expect(result.error?.code == "INVALID_INPUT")
    }
}
