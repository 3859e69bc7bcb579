import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// How interrupts meet the rest of a run: continued failures, the cache, concurrent resumes,
/// failed resumes, flows built in code, reused ids and changed flows.
@Suite struct InterruptResumeEdgeTests {
    typealias Calls = InterruptTests.Calls

    func engine(_ calls: Calls) -> Engine {
        let engine = Engine()
        engine.register(route: "/app/step") { input, context in
            calls.record(context.resumeKey)
            return ["n": .int((input["n"]?.intValue ?? 0) + 1)]
        }
        engine.register(route: "/app/fail") { _, context in
            calls.record(context.resumeKey)
            throw StepError(code: "BOOM", message: "\(context.stepID) fails")
        }
        engine.register(route: "/app/slow") { _, context in
            calls.record(context.resumeKey)
            try await Task.sleep(for: .milliseconds(100))
            return ["n": 1]
        }
        return engine
    }

    @Test func aStoreLessResumeKeepsAFinishedSubflowsInnerSteps() async throws {
        let directory = try temporaryDirectory(containing: [
            "sub.yaml": "steps:\n  - { id: x, component: /app/step, input: { n: 1 } }\noutput: { $step: x }\n",
            "main.yaml": """
                steps:
                  - { id: a, flow: sub.yaml, input: {} }
                  - { id: ask, component: /builtin/interrupt, input: { seen: { $step: a } } }
                output: { a: { $step: a }, ask: { $step: ask } }
                """,
        ])
        let calls = Calls()
        let engine = engine(calls)
        _ = await engine.run(try Flow(contentsOfFile: directory + "/main.yaml"), input: [:], options: RunOptions(runID: "m1"))
        let resumed = try await engine.resume(runID: "m1", values: ["ask": 1])
        #expect(resumed.step("a.x")?.status == .success)
        #expect(resumed.step("a.x")?.output == ["n": 2])
        #expect(calls.all == ["a.x"])
    }

    @Test(arguments: [false, true])
    func aStepThatFailedUnderContinueStaysFailedWhenThePauseIsAnswered(withStore: Bool) async throws {
        let calls = Calls()
        let engine = engine(calls)
        let store: (any RunStorage)? = withStore ? InMemoryRunStore() : nil
        let flow = try Flow(yaml: """
            steps:
              - { id: flaky, component: /app/fail, input: {}, onError: { action: continue }, mustExecute: true }
              - { id: ask, component: /builtin/interrupt, input: {} }
            output: { ask: { $step: ask } }
            """)
        let paused = await engine.run(flow, input: [:], options: RunOptions(runID: "c1", store: store))
        #expect(paused.status == .paused)
        // The failure so far is reported with the pause.
        #expect(paused.error?.code == "STEPS_FAILED")
        #expect(paused.error?.steps.map(\.id) == ["flaky"])
        let resumed = try await engine.resume(runID: "c1", store: store, values: ["ask": 1])
        #expect(calls.all == ["flaky"])
        #expect(resumed.step("flaky")?.status == .failed)
        #expect(resumed.step("flaky")?.error?.code == "BOOM")
        #expect(resumed.status == .failed)
        #expect(resumed.error?.code == "STEPS_FAILED")
    }

    @Test func anInterruptCannotBeCachedAndAnAnsweredStepIsNotCached() async throws {
        let calls = Calls()
        let engine = engine(calls)
        let cachedInterrupt = try Flow(yaml: "steps:\n  - { id: ask, component: /builtin/interrupt, input: {}, cache: true }\noutput: { $step: ask }\n")
        #expect {
            try engine.validate(cachedInterrupt)
        } throws: { error in
            String(describing: error).contains("step 'ask'") && String(describing: error).contains("interrupt cannot be cached")
        }
        // A cached Swift node that asks: its answered output must not answer the next run.
        engine.register(route: "/app/ask") { _, context in try context.interrupt(showing: "approve?") }
        let flow = try Flow(yaml: "steps:\n  - { id: ask, component: /app/ask, input: {}, cache: true }\noutput: { $step: ask }\n")
        let store: any RunStorage = InMemoryRunStore()
        _ = await engine.run(flow, input: [:], options: RunOptions(runID: "k1", store: store))
        let answered = try await engine.resume(runID: "k1", store: store, values: ["ask": "yes from k1"])
        #expect(answered.output == "yes from k1")
        let next = await engine.run(flow, input: [:], options: RunOptions(runID: "k2", store: store))
        #expect(next.status == .paused)
        #expect(next.step("ask")?.cached == false)
    }

    @Test func ofTwoResumesRacingToAnswerOneWins() async throws {
        let calls = Calls()
        let engine = engine(calls)
        let flow = try Flow(yaml: """
            steps:
              - { id: ask, component: /builtin/interrupt, input: {} }
              - { id: after, component: /app/slow, input: { x: { $step: ask } } }
            output: { $step: after }
            """)
        let store: any RunStorage = InMemoryRunStore()
        _ = await engine.run(flow, input: [:], options: RunOptions(runID: "race", store: store))
        func attempt(_ answer: JSON) async -> Result<RunResult, any Error> {
            do { return .success(try await engine.resume(runID: "race", store: store, values: ["ask": answer])) } catch { return .failure(error) }
        }
        async let one = attempt(1)
        async let two = attempt(2)
        let outcomes = await [one, two]
        let won = outcomes.compactMap { try? $0.get() }
        #expect(won.count == 1)
        #expect(won.first?.status == .success)
        let lost = outcomes.compactMap { outcome -> ResumeError.Kind? in
            if case .failure(let error) = outcome { return (error as? ResumeError)?.kind }
            return nil
        }
        #expect(lost.count == 1)
        #expect(lost.allSatisfy { $0 == .alreadyResumed || $0 == .notPaused })
        #expect(calls.all == ["after"])
    }

    @Test func aResumeThatCannotStartLeavesThePauseOpen() async throws {
        let calls = Calls()
        let engine = engine(calls)
        let directory = try temporaryDirectory(containing: ["f.yaml": """
            steps:
              - { id: ask, component: /builtin/interrupt, input: {} }
              - { id: after, component: /app/later, input: { x: { $step: ask } } }
            output: { $step: after }
            """])
        engine.register(route: "/app/later") { input, _ in input }
        let store: any RunStorage = InMemoryRunStore()
        let paused = await engine.run(try Flow(contentsOfFile: directory + "/f.yaml"), input: [:], options: RunOptions(runID: "open", store: store))
        #expect(paused.status == .paused)
        // Another engine without /app/later cannot resolve the flow: nothing is taken.
        let lacking = Engine()
        let failed = try await lacking.resume(runID: "open", store: store, values: ["ask": 1])
        #expect(failed.status == .failed)
        #expect(try await store.pauses(runID: "open").map(\.resumeKey) == ["ask"])
        let resumed = try await engine.resume(runID: "open", store: store, values: ["ask": 1])
        #expect(resumed.output == ["x": 1])
    }

    @Test func aFlowBuiltInCodeResumesInTheEngineItPausedIn() async throws {
        let engine = engine(Calls())
        let store: any RunStorage = InMemoryRunStore()
        let flow = try Flow(yaml: "steps:\n  - { id: ask, component: /builtin/interrupt, input: 1 }\noutput: { $step: ask }\n")
        _ = await engine.run(flow, input: [:], options: RunOptions(runID: "inline", store: store))
        let resumed = try await engine.resume(runID: "inline", store: store, values: ["ask": 2])
        #expect(resumed.output == 2)
        // Another engine has only the store, and no file to read the flow from.
        _ = await engine.run(flow, input: [:], options: RunOptions(runID: "inline2", store: store))
        do {
            _ = try await Engine().resume(runID: "inline2", store: store, values: ["ask": 2])
            Issue.record("resumed a flow it could not have")
        } catch let error as ResumeError {
            #expect(error.kind == .noFlowFile)
        }
    }

    @Test func aStoreLessRunReusingAnIDReplacesTheEarlierPausedRun() async throws {
        let engine = engine(Calls())
        let first = try Flow(yaml: "steps:\n  - { id: first, component: /builtin/interrupt, input: 1 }\noutput: { $step: first }\n")
        let second = try Flow(yaml: "steps:\n  - { id: second, component: /builtin/interrupt, input: 2 }\noutput: { $step: second }\n")
        _ = await engine.run(first, input: [:], options: RunOptions(runID: "same"))
        _ = await engine.run(second, input: [:], options: RunOptions(runID: "same"))
        let resumed = try await engine.resume(runID: "same", values: ["second": 5])
        #expect(resumed.output == 5)
        // Finished store-less runs are not kept.
        await #expect(throws: ResumeError.self) { try await engine.resume(runID: "same", values: ["second": 5]) }
    }

    @Test func anAnswerForAStepTheChangedFlowNoLongerHasIsRefused() async throws {
        let directory = try temporaryDirectory(containing: [
            "inner.yaml": "steps:\n  - { id: d, component: /builtin/interrupt, input: {} }\noutput: { $step: d }\n",
            "main.yaml": "steps:\n  - { id: mid, flow: inner.yaml, input: {} }\noutput: { $step: mid }\n",
        ])
        let store: any RunStorage = InMemoryRunStore()
        let paused = await engine(Calls()).run(try Flow(contentsOfFile: directory + "/main.yaml"), input: [:], options: RunOptions(runID: "ch", store: store))
        #expect(paused.pause?.key == "mid.d")
        try "steps:\n  - { id: e, component: /builtin/interrupt, input: {} }\noutput: { $step: e }\n"
            .write(toFile: directory + "/inner.yaml", atomically: true, encoding: .utf8)
        // A fresh engine, as another process: it must read the changed files.
        do {
            _ = try await engine(Calls()).resume(runID: "ch", store: store, values: ["mid.d": 1])
            Issue.record("a changed sub-flow was not noticed")
        } catch let error as ResumeError {
            #expect(error.kind == .flowChanged)
            #expect(error.message.contains("or a sub-flow it includes"))
        }
        do {
            _ = try await engine(Calls()).resume(runID: "ch", store: store, values: ["mid.d": 1], allowChangedFlow: true)
            Issue.record("an answer for a step that is gone was accepted")
        } catch let error as ResumeError {
            #expect(error.kind == .wrongKey)
            #expect(error.message.contains("no step 'mid.d' any more"))
        }
    }
}

extension InterruptResumeEdgeTests {
    @Test func aFlowRunThroughASymlinkResumesWithTheSameSubflows() async throws {
        let root = try temporaryDirectory()
        let a = root + "/A", b = root + "/B"
        try FileManager.default.createDirectory(atPath: a, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: b, withIntermediateDirectories: true)
        try "steps:\n  - { id: ask, component: /builtin/interrupt, input: { from: A } }\noutput: { $step: ask }\n"
            .write(toFile: a + "/sub.yaml", atomically: true, encoding: .utf8)
        try "steps:\n  - { id: ask, component: /builtin/interrupt, input: { from: B } }\noutput: { $step: ask }\n"
            .write(toFile: b + "/sub.yaml", atomically: true, encoding: .utf8)
        try "steps:\n  - { id: sub, flow: sub.yaml, input: {} }\noutput: { $step: sub }\n"
            .write(toFile: a + "/main.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: b + "/main.yaml", withDestinationPath: "../A/main.yaml")
        let store: any RunStorage = InMemoryRunStore()
        let paused = await engine(Calls()).run(try Flow(contentsOfFile: b + "/main.yaml"), input: [:], options: RunOptions(runID: "ln", store: store))
        #expect(paused.pause?.value == ["from": "B"])
        let resumed = try await engine(Calls()).resume(runID: "ln", store: store, values: ["sub.ask": "ok"])
        #expect(resumed.output == "ok")
    }
}
