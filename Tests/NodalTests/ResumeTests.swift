import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Runs recorded in a store: checkpoints as steps finish, and resuming without re-running them.
@Suite struct ResumeTests {
    final class Calls: Sendable {
        private let calls = Mutex<[String]>([])
        private let failing = Mutex<Set<String>>([])
        func record(_ step: String) { calls.withLock { $0.append(step) } }
        var all: [String] { calls.withLock { $0 } }
        func setFailing(_ steps: Set<String>) { failing.withLock { $0 = steps } }
        func fails(_ step: String) -> Bool { failing.withLock { $0.contains(step) } }
    }

    func engine(_ calls: Calls) -> Engine {
        let engine = Engine()
        engine.register(route: "/app/step") { input, context in
            calls.record(context.stepID)
            if calls.fails(context.stepID) { throw StepError(code: "BROKEN", message: "\(context.stepID) is broken") }
            return ["n": .int((input["n"]?.intValue ?? 0) + 1)]
        }
        return engine
    }

    let chain = """
        steps:
          - { id: a, component: /app/step, input: { n: { $input: start } } }
          - { id: b, component: /app/step, input: { n: { $step: a, path: n } } }
          - { id: c, component: /app/step, input: { n: { $step: b, path: n } } }
        output: { $step: c, path: n }
        """

    func flowFile(_ text: String) throws -> String {
        let path = try temporaryDirectory() + "/flow.yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: ["memory", "sqlite", "sqlite-grouped"])
    func checkpointsAndTheRunAreRecorded(store kind: String) async throws {
        let store: any RunStorage = kind == "memory" ? InMemoryRunStore() : try await SQLiteRunStore(
            path: try temporaryDirectory() + "/runs.db", durability: kind == "sqlite" ? .processCrash : .grouped)
        let calls = Calls()
        let flow = try Flow(contentsOfFile: try flowFile(chain))
        let result = await engine(calls).run(flow, input: ["start": 1], options: RunOptions(runID: "r1", store: store))
        #expect(result.output == 4)
        let checkpoints = try await store.checkpoints(runID: "r1")
        #expect(checkpoints.map(\.stepID) == ["a", "b", "c"])
        #expect(checkpoints.map(\.output) == [["n": 2], ["n": 3], ["n": 4]])
        let record = try #require(try await store.run(id: "r1"))
        #expect(record.status == .success)
        #expect(record.flowHash == flow.sourceHash)
        #expect(record.result?["output"] == 4)
        try await store.close()
    }

    @Test func aCheckpointIsWrittenBeforeTheStepsThatReadItStart() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let engine = Engine()
        let seen = Mutex<[String]>([])
        engine.register(route: "/app/first") { _, _ in ["v": 1] }
        engine.register(route: "/app/second") { _, context in
            let written = try await store.checkpoints(runID: context.runID).map(\.stepID)
            seen.withLock { $0 = written }
            return ["v": 2]
        }
        let flow = try Flow(yaml: """
            steps:
              - { id: first, component: /app/first }
              - { id: second, component: /app/second, input: { x: { $step: first } } }
            output: { $step: second }
            """)
        _ = await engine.run(flow, input: [:], options: RunOptions(store: store))
        #expect(seen.withLock { $0 } == ["first"])
    }

    @Test func resumeAfterAFailedStepRunsOnlyTheFailedAndLaterSteps() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let calls = Calls()
        let engine = engine(calls)
        let flow = try Flow(contentsOfFile: try flowFile(chain))
        calls.setFailing(["b"])
        let failed = await engine.run(flow, input: ["start": 1], options: RunOptions(runID: "r2", store: store))
        #expect(failed.status == .failed)
        #expect(calls.all == ["a", "b"])

        calls.setFailing([])  // the plugin's behaviour is fixed
        let resumed = try await engine.resume(runID: "r2", store: store)
        #expect(resumed.status == .success)
        #expect(resumed.output == 4)
        #expect(calls.all == ["a", "b", "b", "c"])  // a did not run again
        #expect(resumed.step("a")?.output == ["n": 2])
        #expect(try await store.run(id: "r2")?.status == .success)
    }

    @Test func aChangedFlowIsRefusedUnlessAllowed() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let calls = Calls()
        let engine = engine(calls)
        let path = try flowFile(chain)
        calls.setFailing(["c"])
        _ = await engine.run(try Flow(contentsOfFile: path), input: ["start": 1], options: RunOptions(runID: "r3", store: store))
        try (chain + "\n# edited\n").write(toFile: path, atomically: true, encoding: .utf8)
        calls.setFailing([])
        let error = await #expect(throws: ResumeError.self) { try await engine.resume(runID: "r3", store: store) }
        #expect(error?.kind == .flowChanged)
        let resumed = try await engine.resume(runID: "r3", store: store, allowChangedFlow: true)
        #expect(resumed.output == 4)
    }

    @Test func resumeRefusesUnknownAndFinishedRuns() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let calls = Calls()
        let engine = engine(calls)
        let missing = await #expect(throws: ResumeError.self) { try await engine.resume(runID: "nope", store: store) }
        #expect(missing?.kind == .notFound)
        _ = await engine.run(try Flow(contentsOfFile: try flowFile(chain)), input: ["start": 1], options: RunOptions(runID: "done", store: store))
        let done = await #expect(throws: ResumeError.self) { try await engine.resume(runID: "done", store: store) }
        #expect(done?.kind == .alreadySucceeded)
    }
}

extension ResumeTests {
    @Test func aNewRunWithTheIDOfARecordedRunIsRefused() async throws {
        let store: any RunStorage = InMemoryRunStore()
        let calls = Calls()
        let flow = try Flow(contentsOfFile: try flowFile(chain))
        let first = await engine(calls).run(flow, input: ["start": 1], options: RunOptions(runID: "same", store: store))
        #expect(first.status == .success)
        let second = await engine(calls).run(flow, input: ["start": 5], options: RunOptions(runID: "same", store: store))
        #expect(second.status == .failed)
        #expect(second.error?.code == "RUN_EXISTS")
        #expect(second.error?.message.contains("'same'") == true)
        // The recorded run is untouched.
        #expect(try await store.run(id: "same")?.input == ["start": 1])
        #expect(calls.all == ["a", "b", "c"])
    }
}
