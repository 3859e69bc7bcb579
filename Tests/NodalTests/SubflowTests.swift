import Foundation
import NodalTestSupport
import Synchronization
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Steps that run another flow file (`flow: FILE`): results nested under the step's id, errors
/// that name the sub-flow, include cycles refused, changed sub-flows noticed.
@Suite struct SubflowTests {
    func engine() -> Engine {
        let engine = Engine()
        engine.register(route: "/app/double") { input, _ in ["n": .int((input["n"]?.intValue ?? 0) * 2)] }
        engine.register(route: "/app/fail") { _, context in throw StepError(code: "BROKEN", message: "\(context.stepID) always fails") }
        return engine
    }

    let inner = """
        steps:
          - { id: twice, component: /app/double, input: { n: { $input: n } } }
          - { id: again, component: /app/double, input: { n: { $step: twice, path: n } } }
        output: { quadrupled: { $step: again, path: n } }
        """

    @Test func aSubflowStepRunsTheFileAndNestsItsStepsUnderTheStepID() async throws {
        let directory = try temporaryDirectory(containing: [
            "inner.yaml": inner,
            "outer.yaml": """
                steps:
                  - { id: first, component: /app/double, input: { n: { $input: n } } }
                  - id: times4
                    flow: inner.yaml
                    input: { n: { $step: first, path: n } }
                output: { $step: times4, path: quadrupled }
                """,
        ])
        let flow = try Flow(contentsOfFile: directory + "/outer.yaml")
        let result = await engine().run(flow, input: ["n": 3])
        #expect(result.status == .success)
        #expect(result.output == 24)
        let step = try #require(result.step("times4"))
        #expect(step.component == "flow:inner.yaml")
        #expect(step.output == ["quadrupled": 24])
        #expect(step.steps?.map(\.id) == ["twice", "again"])
        #expect(result.step("times4.twice")?.output == ["n": 12])
        #expect(result.step("times4.again")?.status == .success)
        // The JSON result carries them too.
        let nested = result.json["steps"]?[1]?["steps"]
        #expect(nested?[0]?["id"] == "twice")
    }

    @Test func aFailingSubflowFailsItsStepWithTheInnerFailureAndNamesTheInnerStep() async throws {
        let directory = try temporaryDirectory(containing: [
            "broken.yaml": """
                steps:
                  - { id: ok, component: /app/double, input: { n: 1 } }
                  - { id: bad, component: /app/fail, input: { n: { $step: ok, path: n } } }
                output: { $step: bad }
                """,
            "outer.yaml": """
                steps:
                  - { id: sub, flow: broken.yaml, input: {} }
                output: { $step: sub }
                """,
        ])
        let result = await engine().run(try Flow(contentsOfFile: directory + "/outer.yaml"), input: [:])
        #expect(result.status == .failed)
        #expect(result.error?.code == "BROKEN")
        // The inner step's own error, unprefixed; the step path and the file are fields.
        #expect(result.error?.message == "bad always fails")
        #expect(result.error?.step == "sub.bad")
        #expect(result.error?.steps.map(\.component) == ["flow:broken.yaml"])
        #expect(result.step("sub")?.error?.message == "bad always fails")
        #expect(result.step("sub.ok")?.status == .success)
        #expect(result.step("sub.bad")?.status == .failed)
    }

    @Test func loadingErrorsNameTheSubflowFileAndTheIncludingStep() throws {
        let missing = try temporaryDirectory(containing: ["outer.yaml": "steps:\n  - { id: sub, flow: nowhere.yaml }\noutput: { $step: sub }\n"])
        #expect {
            try Flow(contentsOfFile: missing + "/outer.yaml")
        } throws: { error in
            let text = String(describing: error)
            return text.contains("outer.yaml") && text.contains("step 'sub'") && text.contains("nowhere.yaml") && text.contains("does not exist")
        }
        let invalid = try temporaryDirectory(containing: [
            "inner.yaml": "steps:\n  - { id: x, component: /app/double, input: { n: { $step: nope } } }\noutput: {}\n",
            "outer.yaml": "steps:\n  - { id: sub, flow: inner.yaml }\noutput: { $step: sub }\n",
        ])
        #expect {
            try Flow(contentsOfFile: invalid + "/outer.yaml")
        } throws: { error in
            let text = String(describing: error)
            return text.contains("inner.yaml") && text.contains("step 'x'") && text.contains("nope") && text.contains("sub-flow of step 'sub'")
        }
        let both = try temporaryDirectory(containing: ["outer.yaml": "steps:\n  - { id: sub, flow: a.yaml, component: /app/double }\noutput: {}\n"])
        #expect(throws: FlowError.self) { try Flow(contentsOfFile: both + "/outer.yaml") }
    }

    @Test func subflowsThatIncludeEachOtherAreRefused() throws {
        let directory = try temporaryDirectory(containing: [
            "a.yaml": "steps:\n  - { id: toB, flow: b.yaml }\noutput: { $step: toB }\n",
            "b.yaml": "steps:\n  - { id: toA, flow: a.yaml }\noutput: { $step: toA }\n",
        ])
        #expect {
            try Flow(contentsOfFile: directory + "/a.yaml")
        } throws: { error in
            String(describing: error).contains("sub-flows include each other: a.yaml -> b.yaml -> a.yaml")
        }
    }

    @Test func anUnknownComponentInsideASubflowIsReportedAtValidation() throws {
        let directory = try temporaryDirectory(containing: [
            "inner.yaml": "steps:\n  - { id: x, component: /app/missing }\noutput: { $step: x }\n",
            "outer.yaml": "steps:\n  - { id: sub, flow: inner.yaml }\noutput: { $step: sub }\n",
        ])
        let flow = try Flow(contentsOfFile: directory + "/outer.yaml")
        #expect {
            try engine().validate(flow)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("inner.yaml") && text.contains("step 'x'") && text.contains("/app/missing")
        }
    }

    @Test func theFlowHashCoversSubflowFiles() throws {
        let directory = try temporaryDirectory(containing: ["inner.yaml": inner, "outer.yaml": "steps:\n  - { id: sub, flow: inner.yaml, input: { n: 1 } }\noutput: { $step: sub }\n"])
        let before = try Flow(contentsOfFile: directory + "/outer.yaml").sourceHash
        try inner.replacingOccurrences(of: "again", with: "more").write(toFile: directory + "/inner.yaml", atomically: true, encoding: .utf8)
        let after = try Flow(contentsOfFile: directory + "/outer.yaml").sourceHash
        #expect(before != nil && after != nil && before != after)
    }

    @Test func subflowStepEventsCarryDottedStepIDs() async throws {
        let directory = try temporaryDirectory(containing: ["inner.yaml": inner, "outer.yaml": "steps:\n  - { id: sub, flow: inner.yaml, input: { n: 1 } }\noutput: { $step: sub }\n"])
        let seen = Mutex<[String]>([])
        let options = RunOptions(onEvent: { event in
            if case .stepSucceeded(let step, _, _, _) = event.kind { seen.withLock { $0.append(step) } }
        })
        let result = await engine().run(try Flow(contentsOfFile: directory + "/outer.yaml"), input: [:], options: options)
        #expect(result.status == .success)
        #expect(seen.withLock { $0 } == ["sub.twice", "sub.again", "sub"])
    }
}

extension SubflowTests {
    @Test func aStepIDThatReadsAsAStepInsideASubflowIsRefused() throws {
        let directory = try temporaryDirectory(containing: [
            "inner.yaml": inner,
            "outer.yaml": """
                steps:
                  - { id: sub, flow: inner.yaml, input: { n: 1 } }
                  - { id: sub.twice, component: /app/double, input: { n: 1 } }
                output: { $step: sub }
                """,
        ])
        #expect {
            try Flow(contentsOfFile: directory + "/outer.yaml")
        } throws: { error in
            String(describing: error).contains("'sub.twice' reads as a step inside sub-flow step 'sub'")
        }
    }
}
