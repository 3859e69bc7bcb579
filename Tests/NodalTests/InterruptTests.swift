import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Interrupts: a run pauses for outside input, shows a value, and goes on when resumed with the
/// answer, without running finished steps again.
@Suite struct InterruptTests {
    final class Calls: Sendable {
        private let calls = Mutex<[String]>([])
        func record(_ step: String) { calls.withLock { $0.append(step) } }
        var all: [String] { calls.withLock { $0 } }
    }

    func engine(_ calls: Calls) -> Engine {
        let engine = Engine()
        engine.register(route: "/app/step") { input, context in
            calls.record(context.resumeKey)
            return ["n": .int((input["n"]?.intValue ?? 0) + 1)]
        }
        // A Swift node that asks for approval through the interrupt API and uses the answer.
        engine.register(route: "/app/approve") { input, context in
            calls.record(context.resumeKey)
            let answer = try context.interrupt(showing: ["draft": input["draft"] ?? .null])
            return ["approved": .bool(answer["approved"]?.boolValue ?? false), "by": answer["by"] ?? .null]
        }
        return engine
    }

    let simple = """
        steps:
          - { id: before, component: /app/step, input: { n: 1 } }
          - id: decision
            component: /builtin/interrupt
            input: { question: Go on?, seen: { $step: before, path: n } }
          - { id: after, component: /app/step, input: { n: { $step: decision, path: n } } }
          - { id: independent, component: /app/step, input: { n: 10 }, mustExecute: true }
        output: { $step: after, path: n }
        """

    @Test func aRunPausesShowingTheValueAndResumesInMemoryWithTheAnswer() async throws {
        let calls = Calls()
        let engine = engine(calls)
        let flow = try Flow(yaml: simple)
        let paused = await engine.run(flow, input: [:], options: RunOptions(runID: "p1"))
        #expect(paused.status == .paused)
        #expect(paused.pause == RunPause(key: "decision", step: "decision", value: ["question": "Go on?", "seen": 2]))
        #expect(paused.step("decision")?.status == .paused)
        #expect(paused.step("after")?.status == .notRun)
        // Work that does not wait for the answer still ran.
        #expect(paused.step("independent")?.status == .success)
        #expect(paused.json["pause"]?["key"] == "decision")
        #expect(paused.output == nil)

        let resumed = try await engine.resume(runID: "p1", values: ["decision": ["n": 41]])
        #expect(resumed.status == .success)
        #expect(resumed.output == 42)
        #expect(resumed.step("decision")?.output == ["n": 41])
        #expect(resumed.pause == nil)
        // before and independent ran once, in the first run; after ran once, on the resume.
        #expect(calls.all.sorted() == ["after", "before", "independent"])
        // Done: a second resume has nothing to do.
        await #expect(throws: ResumeError.self) { try await engine.resume(runID: "p1", values: ["decision": 1]) }
    }

    @Test func aWrongKeyOrNoValueIsRefusedAndTheRunStaysPaused() async throws {
        let engine = engine(Calls())
        _ = await engine.run(try Flow(yaml: simple), input: [:], options: RunOptions(runID: "p2"))
        do {
            _ = try await engine.resume(runID: "p2", values: ["decisions": true])
            Issue.record("a wrong key was accepted")
        } catch let error as ResumeError {
            #expect(error.kind == .wrongKey)
            #expect(error.message.contains("waits for a value for 'decision'"))
            #expect(error.message.contains("not for 'decisions'"))
        }
        do {
            _ = try await engine.resume(runID: "p2")
            Issue.record("a resume without the answer was accepted")
        } catch let error as ResumeError {
            #expect(error.kind == .valueNeeded)
            #expect(error.message.contains("'decision'"))
            #expect(error.message.contains("Go on?"))
        }
        let resumed = try await engine.resume(runID: "p2", values: ["decision": ["n": 0]])
        #expect(resumed.output == 1)
    }

    @Test func aValueForARunThatIsNotPausedIsRefused() async throws {
        let store = InMemoryRunStore()
        let engine = engine(Calls())
        let flow = try Flow(yaml: "steps:\n  - { id: a, component: /app/missing }\noutput: { $step: a }\n")
        _ = await engine.run(flow, input: [:], options: RunOptions(runID: "np", store: store))
        await #expect(throws: ResumeError.self) { try await engine.resume(runID: "np", store: store, values: ["a": 1]) }
    }

    @Test(arguments: ["memory", "sqlite"])
    func nestedInterruptsHaveDottedKeysAndResumeAcrossEngines(store kind: String) async throws {
        let directory = try temporaryDirectory(containing: [
            "review.yaml": """
                steps:
                  - { id: draft, component: /app/step, input: { n: { $input: n } } }
                  - id: decision
                    component: /builtin/interrupt
                    input: { draft: { $step: draft, path: n } }
                output: { draft: { $step: draft, path: n }, verdict: { $step: decision } }
                """,
            "main.yaml": """
                steps:
                  - { id: start, component: /app/step, input: { n: 0 } }
                  - id: review
                    flow: review.yaml
                    input: { n: { $step: start, path: n } }
                  - { id: publish, component: /app/step, input: { n: { $step: review, path: draft } } }
                output: { published: { $step: publish, path: n }, verdict: { $step: review, path: verdict } }
                """,
        ])
        let path = try temporaryDirectory() + "/runs.db"
        func open() async throws -> any RunStorage { kind == "memory" ? sharedMemory : try await SQLiteRunStore(path: path) }
        let sharedMemory = InMemoryRunStore()
        let firstCalls = Calls()
        let store = try await open()
        let paused = await engine(firstCalls).run(try Flow(contentsOfFile: directory + "/main.yaml"), input: [:], options: RunOptions(runID: "n1", store: store))
        #expect(paused.status == .paused)
        #expect(paused.pause?.key == "review.decision")
        #expect(paused.pause?.value == ["draft": 2])
        #expect(paused.step("review")?.status == .paused)
        #expect(paused.step("review.decision")?.status == .paused)
        #expect(paused.step("review.draft")?.status == .success)
        #expect(firstCalls.all == ["start", "review.draft"])
        let record = try #require(try await store.run(id: "n1"))
        #expect(record.status == .paused)
        #expect(try await store.pauses(runID: "n1").map(\.resumeKey) == ["review.decision"])
        if kind == "sqlite" { try await store.close() }

        // Another engine (as another process would) answers it.
        let secondCalls = Calls()
        let reopened = try await open()
        await #expect(throws: ResumeError.self) { try await engine(secondCalls).resume(runID: "n1", store: reopened, values: ["decision": "ok"]) }
        let resumed = try await engine(secondCalls).resume(runID: "n1", store: reopened, values: ["review.decision": "ok"])
        #expect(resumed.status == .success)
        #expect(resumed.output == ["published": 3, "verdict": "ok"])
        // Neither the outer nor the inner finished step ran again.
        #expect(secondCalls.all == ["publish"])
        #expect(resumed.step("review.draft")?.output == ["n": 2])
        #expect(resumed.step("review.decision")?.output == "ok")
        #expect(try await reopened.pauses(runID: "n1").isEmpty)
        #expect(try await reopened.run(id: "n1")?.status == .success)
        if kind == "sqlite" { try await reopened.close() }
    }

    @Test(arguments: [(["first", "second"], ["first", "second"]), (["second", "first"], ["second", "first"])])
    func severalInterruptsPauseOneAtATimeInTheFlowsOrder(listed: [String], asked: [String]) async throws {
        let steps = listed.map { "  - { id: \($0), component: /builtin/interrupt, input: { which: \($0) } }" }.joined(separator: "\n")
        let flow = try Flow(yaml: "steps:\n\(steps)\noutput: { a: { $step: first }, b: { $step: second } }\n")
        let engine = engine(Calls())
        var result = await engine.run(flow, input: [:], options: RunOptions(runID: "two"))
        var order: [String] = []
        while result.status == .paused, let pause = result.pause {
            order.append(pause.key)
            #expect(pause.value == ["which": .string(pause.key)])
            result = try await engine.resume(runID: "two", values: [pause.key: .string(pause.key.uppercased())])
        }
        #expect(order == asked)
        #expect(result.output == ["a": "FIRST", "b": "SECOND"])
    }

    @Test func aSwiftNodeCanInterruptAndUsesTheAnswerWhenCalledAgain() async throws {
        let calls = Calls()
        let engine = engine(calls)
        let flow = try Flow(yaml: "steps:\n  - { id: approve, component: /app/approve, input: { draft: hello } }\noutput: { $step: approve }\n")
        let paused = await engine.run(flow, input: [:], options: RunOptions(runID: "swift"))
        #expect(paused.pause == RunPause(key: "approve", step: "approve", value: ["draft": "hello"]))
        let resumed = try await engine.resume(runID: "swift", values: ["approve": ["approved": true, "by": "ada"]])
        #expect(resumed.output == ["approved": true, "by": "ada"])
        #expect(calls.all == ["approve", "approve"])
    }

    @Test func anInterruptInsideMapFailsThatItemInsteadOfPausing() async throws {
        let flow = try Flow(yaml: """
            steps:
              - id: each
                component: /builtin/map
                input:
                  items: [1, 2]
                  workflow:
                    $literal:
                      steps:
                        - { id: ask, component: /builtin/interrupt, input: { item: { $input: $ } } }
                      output: { $step: ask }
            output: { $step: each }
            """)
        let result = await engine(Calls()).run(flow, input: [:])
        #expect(result.status == .success)
        #expect(result.output?["failed"] == 2)
        #expect(result.output?["results"]?[0]?["error"]?["code"] == "INTERRUPT_NOT_ALLOWED")
    }

    @Test func pausesAreReportedAsEvents() async throws {
        let events = Mutex<[String]>([])
        let options = RunOptions(onEvent: { event in
            switch event.kind {
            case .stepPaused(let step, let key, _): events.withLock { $0.append("step \(step) \(key)") }
            case .runPaused(let key, _): events.withLock { $0.append("run \(key)") }
            default: break
            }
        })
        _ = await engine(Calls()).run(try Flow(yaml: simple), input: [:], options: options)
        #expect(events.withLock { $0 } == ["step decision decision", "run decision"])
    }
}

extension InterruptTests {
    @Test func testCasesCanExpectAPauseWithItsKeyAndValue() async throws {
        let flow = try Flow(yaml: simple + """

            test:
              cases:
                - name: right
                  output: { outcome: paused, key: decision, value: { seen: 2 } }
                - name: wrong key
                  output: { outcome: paused, key: other }
                - name: wrong value
                  output: { outcome: paused, value: { seen: 3 } }
                - name: expects success
            """)
        let result = await engine(Calls()).run(flow, input: [:])
        let verdicts = flow.testCases.map { $0.mismatch(result) }
        #expect(verdicts[0] == nil)
        #expect(verdicts[1] == "expected a pause for \"other\", got one for \"decision\"")
        #expect(verdicts[2] == "pause.value.seen: expected 3, got 2")
        #expect(verdicts[3] == "expected success, got paused at step 'decision', waiting for a value for 'decision'")
        let finished = await engine(Calls()).run(try Flow(yaml: "steps: []\noutput: 1\n"), input: [:])
        #expect(flow.testCases[0].mismatch(finished) == "expected a pause, got success")
    }
}
