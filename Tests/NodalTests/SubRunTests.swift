import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Sub-runs in the engine: they never deadlock the blocking-call pool, nest, record their parent
/// and root in the store, and are cancelled with the run that submitted them.
@Suite struct SubRunTests {
    /// The innermost flow: one pooled C node.
    static let inner = "{ name: inner, steps: [{ id: echo, component: /ext/echo, input: { $input: $ } }], output: { $step: echo } }"
    /// A flow whose pooled node submits `inner` (its id in the item's `inner`) over two items and
    /// waits: the second level of sub-runs.
    static let middle = """
        { name: middle, steps: [{ id: submit, component: /ext/submit, input: { flowId: { $input: inner }, inputs: [{ $input: i }, 100], wait: true } }],
          output: { $step: submit, path: "$.results[*].result.value" } }
        """

    /// A flow that stores `inner` and `middle`, then submits `middle` over `items` items and waits.
    static func nestedFlow(items: Int = 2) throws -> Flow {
        let inputs = (1...items).map { "{ inner: { $step: inner, path: id }, i: \($0) }" }.joined(separator: ", ")
        return try Flow(yaml: """
            steps:
              - { id: inner, component: /ext/put_flow, input: { $literal: \(inner) } }
              - { id: middle, component: /ext/put_flow, input: { $literal: \(middle) } }
              - { id: submit, component: /ext/submit, input: { flowId: { $step: middle, path: id }, inputs: [\(inputs)], wait: true } }
            output: { $step: submit }
            """)
    }

    /// Returns once `condition` holds, checking every millisecond (the test's time limit ends a
    /// wait that never comes).
    static func eventually(_ condition: () -> Bool) async throws {
        while !condition() { try await Task.sleep(for: .milliseconds(1)) }
    }

    /// The case: one blocking-pool thread; a pooled C node submits with wait: true a flow
    /// whose nodes are pooled C nodes, and (nested) one whose pooled node submits another and waits.
    @Test(.timeLimit(.minutes(1))) func aOneThreadPoolDoesNotDeadlockOnSubRunsThatNeedIt() async throws {
        let engine = try ExtensionPlugin.engine(blockingThreads: 1)
        #expect(engine.pool.threadCount == 1)
        let simple = await engine.run(try RunsExtensionTests.submitFlow(
            subflow: Self.inner, request: "inputs: [1, 2, 3], wait: true"), input: [:])
        #expect(simple.output?["status"] == "success", "\(simple.json)")
        #expect(simple.output?["results"]?.arrayValue?.map { $0[path: "result.value"] } == [1, 2, 3])

        let nested = await engine.run(try Self.nestedFlow(items: 3), input: [:])
        #expect(nested.status == .success, "\(nested.json)")
        #expect(nested.output?["status"] == "success")
        #expect(nested.output?["results"]?.arrayValue?.map { $0[path: "result.value"] } == [[1, 100], [2, 100], [3, 100]])
        // The threads started in place of waiting ones retire once idle.
        try await Self.eventually { engine.pool.liveThreads == 1 }
    }

    /// Each sub-run item is a run of its own in the parent's store, with its steps checkpointed,
    /// recording the run that submitted it and the root of the chain.
    @Test(arguments: StoreKind.allCases)
    func subRunItemsRecordTheirParentAndRoot(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let engine = try ExtensionPlugin.engine()
            let rootID = "root-\(UUID().uuidString.prefix(8))"
            let result = await engine.run(try Self.nestedFlow(items: 1), input: [:], options: RunOptions(runID: rootID, store: store))
            #expect(result.status == .success, "\(result.json)")
            let middleRun = try #require(result.output?["runId"]?.stringValue)
            #expect(result.output?["parentRunId"]?.stringValue == rootID)
            #expect(result.output?["rootRunId"]?.stringValue == rootID)

            let runs = try await store.listRuns(limit: 50)
            let root = try #require(runs.first { $0.id == rootID })
            #expect(root.parentRunID == nil && root.rootRunID == nil)
            let middleItem = try #require(runs.first { $0.id == "\(middleRun)-0" }, "\(runs.map(\.id))")
            #expect(middleItem.parentRunID == rootID)
            #expect(middleItem.rootRunID == rootID)
            #expect(middleItem.flowName == "middle")
            #expect(middleItem.status == .success)
            let innerItems = runs.filter { $0.parentRunID == middleItem.id }
            #expect(innerItems.count == 2)
            #expect(innerItems.allSatisfy { $0.rootRunID == rootID && $0.flowName == "inner" && $0.status == .success })
            #expect(try await store.checkpoints(runID: middleItem.id).map(\.stepID) == ["submit"])
            for item in innerItems { #expect(try await store.checkpoints(runID: item.id).map(\.stepID) == ["echo"]) }
        }
    }

    /// In a store file, the parent and root survive the store being closed and opened again.
    @Test func theSQLiteStoreKeepsParentAndRootAcrossOpens() async throws {
        let path = try temporaryDirectory() + "/runs.db"
        let engine = try ExtensionPlugin.engine()
        let store = try await SQLiteRunStore(path: path)
        let rootID = "root-\(UUID().uuidString.prefix(8))"
        let result = await engine.run(try Self.nestedFlow(items: 1), input: [:], options: RunOptions(runID: rootID, store: store))
        try await store.close()
        #expect(result.status == .success, "\(result.json)")
        let reopened = try await SQLiteRunStore(path: path)
        let runs = try await reopened.listRuns(limit: 50)
        try await reopened.close()
        #expect(runs.count == 4)
        #expect(runs.filter { $0.rootRunID == rootID }.count == 3)
        #expect(Set(runs.compactMap(\.parentRunID)).count == 2, "the root's item and the item's items: \(runs.map { ($0.id, $0.parentRunID) })")
    }

    /// Cancelling the root run cancels the sub-run its step waits on, and that one's own sub-run.
    @Test(.timeLimit(.minutes(1))) func cancellingTheParentCancelsItsSubRunsAndTheirs() async throws {
        let engine = try ExtensionPlugin.engine(blockingThreads: 1)
        let waiters = "{ steps: [{ id: w, component: /ext/waiter }], output: { $step: w } }"
        let flow = try Flow(yaml: """
            steps:
              - { id: inner, component: /ext/put_flow, input: { $literal: \(waiters) } }
              - { id: middle, component: /ext/put_flow, input: { $literal: \(Self.middle) } }
              - { id: submit, component: /ext/submit, input: { flowId: { $step: middle, path: id }, inputs: [{ inner: { $step: inner, path: id }, i: 1 }], wait: true } }
            output: { $step: submit }
            """)
        let token = CancellationToken()
        let run = Task { await engine.run(flow, input: [:], options: RunOptions(cancellation: token)) }
        // Both levels started, and the innermost items are in the plugin.
        try await Self.eventually {
            let statuses = engine.subRuns.all.map { $0.status(includeResults: false, order: .byIndex) }
            return statuses.count == 2 && statuses.contains { $0[path: "items.running"] == 2 }
        }
        token.cancel()
        let result = await run.value
        #expect(result.status == .canceled)
        #expect(result.step("submit")?.status == .canceled)
        try await Self.eventually { engine.subRuns.all.allSatisfy(\.isFinished) }
        let statuses = engine.subRuns.all.map { $0.status(includeResults: false, order: .byIndex) }
        #expect(statuses.map { $0["status"] } == ["cancelled", "cancelled"])
        #expect(statuses.map { RunsExtensionTests.counts($0)[5] }.sorted() == [1, 2])
    }

    /// A step timeout ends the wait at once; the run then fails, and its sub-run is cancelled
    /// with it.
    @Test(.timeLimit(.minutes(1))) func aStepTimeoutEndsTheWait() async throws {
        let clock = TestClock()
        let engine = try ExtensionPlugin.engine(clock: clock)
        let flow = try Flow(yaml: """
            steps:
              - { id: put, component: /ext/put_flow, input: { $literal: { steps: [{ id: nap, component: /builtin/sleep, input: { duration_ms: 3600000 } }], output: { $step: nap } } } }
              - { id: submit, component: /ext/submit, timeout: 5, input: { flowId: { $step: put, path: id }, inputs: [1], wait: true } }
            output: { $step: submit }
            """)
        let run = Task { await engine.run(flow, input: [:]) }
        await clock.waitForSleepers(count: 2)
        #expect(clock.pendingDelays == [.seconds(5), .seconds(3600)])
        clock.advance(by: .seconds(5))
        let result = await run.value
        #expect(result.status == .failed)
        #expect(result.step("submit")?.error?.code == "TIMEOUT", "\(result.json)")
        try await Self.eventually { engine.subRuns.all.first?.isFinished == true }
        let status = try #require(engine.subRuns.all.first?.status(includeResults: true, order: .byIndex))
        #expect(status["status"] == "cancelled")
        #expect(status[path: "results.0.result.outcome"] == "cancelled")
    }

    /// A wait holds no lock of the call: while one thread of the node waits in submit (its item
    /// held in a plugin until the test lets it go, which it does only once the node logged), the
    /// invoke's thread logs and reports progress. Were the call's lock held for the wait, the log
    /// would wait for the submit and the submit for the log.
    @Test(.timeLimit(.minutes(1))) func theOtherServicesAnswerWhileACallWaits() async throws {
        let hold = try HoldPlugin()
        defer { hold.release() }
        let engine = try ExtensionPlugin.engine(also: [hold.path])
        let library = try #require(dlopen(try ExtensionPlugin.path.get(), RTLD_NOW))
        let go = unsafeBitCast(try #require(dlsym(library, "nodal_test_aside_go")), to: (@convention(c) () -> Void).self)
        let flow = try Flow(yaml: """
            steps:
              - { id: put, component: /ext/put_flow, input: { $literal: { steps: [{ id: h, component: /hold/hold }], output: { $step: h } } } }
              - { id: aside, component: /ext/aside, input: { flowId: { $step: put, path: id }, inputs: [1], wait: true } }
            output: { $step: aside }
            """)
        let options = RunOptions(onEvent: { event in
            if case .log(step: "aside", level: _, message: "aside") = event.kind { hold.release() }
        })
        let run = Task { await engine.run(flow, input: [:], options: options) }
        try await hold.waitUntilEntered(1)
        go()
        let result = await run.value
        #expect(result.status == .success, "\(result.json)")
        #expect(result.output?["status"] == "success")
        #expect(result.output?[path: "results.0.result.value"] == ["released": true])
    }

    /// The pool's managed blocking on its own: a job that waits for a job queued behind it, on a
    /// pool of one thread, gets a thread in its place; afterwards the pool is back to one thread.
    @Test(.timeLimit(.minutes(1))) func aWaitingPoolThreadHasAThreadStartedInItsPlace() async throws {
        let pool = BlockingCallPool(threads: 1)
        pool.start()
        defer { pool.shutdown() }
        let handOff = Semaphore()
        let seen = Mutex<[String]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            pool.submit {
                let onPool = pool.isPoolThread
                pool.withCompensation { handOff.wait() }
                seen.withLock { $0.append("waiter on the pool: \(onPool)") }
                done.resume()
            }
            pool.submit {
                seen.withLock { $0.append("signaller") }
                handOff.signal()
            }
        }
        #expect(seen.withLock { $0 } == ["signaller", "waiter on the pool: true"])
        try await Self.eventually { pool.liveThreads == 1 }
        // Off the pool's threads it only runs the body.
        #expect(!pool.isPoolThread)
        #expect(pool.withCompensation { pool.liveThreads } == 1)
    }
}
