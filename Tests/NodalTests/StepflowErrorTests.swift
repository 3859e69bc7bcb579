import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON

/// Errors as Stepflow reports them: a failed step's own code, message and data as the run's
/// error; the mock plugin's codes and messages; `nodal test`'s exact comparison of them.
@Suite struct StepflowErrorTests {
    func mockEngine(_ behaviors: String, component: String = "/lookup") throws -> Engine {
        Engine(configuration: try NodalConfig(yaml: """
            plugins:
              mock:
                type: mock
                components:
                  \(component):
                    behaviors:
            \(behaviors)
            routes:
              "/mock": [{ plugin: mock }]
            """))
    }

    func flow(_ component: String = "/mock/lookup", onError: String = "") throws -> Flow {
        try Flow(yaml: """
            steps:
              - { id: look, component: \(component), input: { id: { $input: id } }\(onError) }
            output: { $step: look }
            """)
    }

    // MARK: The run's error is the failed step's own

    @Test func aFailedStepsCodeMessageAndDetailsAreTheRunsErrorUnprefixed() async throws {
        let engine = try mockEngine("""
                          { id: 2 }: { outcome: failed, error: { code: NOT_FOUND, message: no such id, data: { id: 2 } } }
            """)
        let result = await engine.run(try flow(), input: ["id": 2])
        #expect(result.status == .failed)
        let error = try #require(result.error)
        #expect(error.code == "NOT_FOUND")
        #expect(error.message == "no such id")
        #expect(error.details == ["id": 2])
        #expect(error.step == "look")
        #expect(error.steps.map(\.id) == ["look"])
        // The JSON result carries the same, with the step named beside it.
        let json = result.json["error"]
        #expect(json?["message"] == "no such id")
        #expect(json?["step"] == "look")
        #expect(json?["details"] == ["id": 2])
    }

    @Test func retriesThatRunOutKeepTheStepsOwnError() async throws {
        let engine = try mockEngine("""
                          { id: 2 }: { outcome: failed, error: { code: COMPONENT_FAILED, message: error } }
            """)
        let result = await engine.run(try flow(onError: ", onError: { action: retry, maxRetries: 2 }"), input: ["id": 2])
        #expect(result.error?.code == "COMPONENT_FAILED")
        #expect(result.error?.message == "error")
        #expect(result.step("look")?.attempts == 3)
    }

    @Test func aFailedSubflowPassesTheInnerErrorOnAndNamesTheInnerStep() async throws {
        let engine = Engine()
        engine.register(route: "/app/fail") { _, _ in
            throw StepError(code: "BROKEN", message: "it broke", details: ["why": "always"])
        }
        let directory = try temporaryDirectory(containing: [
            "inner.yaml": "steps:\n  - { id: bad, component: /app/fail }\noutput: { $step: bad }\n",
            "outer.yaml": "steps:\n  - { id: sub, flow: inner.yaml }\noutput: { $step: sub }\n",
        ])
        let result = await engine.run(try Flow(contentsOfFile: directory + "/outer.yaml"), input: [:])
        #expect(result.error?.code == "BROKEN")
        #expect(result.error?.message == "it broke")
        #expect(result.error?.details == ["why": "always"])
        #expect(result.error?.step == "sub.bad")
        #expect(result.error?.steps.map(\.component) == ["flow:inner.yaml"])
    }

    // MARK: The mock plugin, as Stepflow's

    @Test func anInputWithoutBehaviourFailsAsStepflowsMockDoes() async throws {
        let engine = try mockEngine("""
                          { id: 1 }: { outcome: success, result: { name: Ada } }
            """)
        let result = await engine.run(try flow(), input: ["id": 7])
        let error = try #require(result.error)
        #expect(error.code == "UNREACHABLE")
        #expect(error.message == #"step "look" failed"#)
        #expect(error.details == ["stack": [
            ["error": #"step "look" failed"#, "attachments": [
                "Component: /lookup", "Component execution failed for step 'look'", #"No behavior defined for /lookup on {"id":7}"#,
            ]],
            ["error": "error executing user-defined function"],
        ]])
        #expect(result.step("look")?.error?.code == "UNREACHABLE")
    }

    @Test func anErrorTextBehaviourIsAnInternalFailureOfTheComponent() async throws {
        let engine = try mockEngine("""
                          { id: 3 }: { error: "the database is down" }
            """)
        let result = await engine.run(try flow(), input: ["id": 3])
        #expect(result.error?.code == "UNREACHABLE")
        #expect(result.error?.message == #"step "look" failed"#)
        #expect(result.error?.details?["stack"]?[0]?["attachments"] == ["Component: /lookup", "Component execution failed for step 'look'"])
        // `useDefault` applies to it as to any failure, as in Stepflow.
        let defaulted = await engine.run(try flow(onError: ", onError: { action: useDefault, defaultValue: { name: nobody } }"), input: ["id": 3])
        #expect(defaulted.output == ["name": "nobody"])
    }

    @Test func anIntegerCodeIsKeptAsItsText() async throws {
        let engine = try mockEngine("""
                          { id: 2 }: { outcome: failed, error: { code: 8, message: error } }
            """)
        let result = await engine.run(try flow(), input: ["id": 2])
        #expect(result.error?.code == "8")
        #expect(result.error?.message == "error")
    }

    @Test(arguments: [
        ("{ outcome: failed, error: { code: 8 } }", "error.message", "needs a 'message'"),
        ("{ outcome: failed, error: { message: oops } }", "error.code", "needs a 'code'"),
        ("{ outcome: failed, error: { code: 1.5, message: oops } }", "error.code", "must be a non-empty string or an integer"),
        ("{ outcome: failed }", "error", "needs an 'error' mapping"),
        ("{ outcome: success }", "result", "needs a 'result'"),
        ("{ outcome: maybe }", "outcome", "unknown outcome"),
        ("{ result: 1 }", "", "needs an 'outcome'"),
    ])
    func malformedBehavioursAreRefusedNamingTheField(behavior: String, field: String, message: String) throws {
        #expect {
            try mockEngine("              { id: 1 }: \(behavior)")
        } throws: { error in
            guard let error = error as? FlowError else { return false }
            let expected = #"plugins.mock.components./lookup.behaviors.{"id":1}"# + (field.isEmpty ? "" : "." + field)
            return error.field == expected && error.message.contains(message)
        }
    }

    // MARK: `nodal test`'s comparison

    func failure(code: String = "COMPONENT_FAILED", message: String = "error", details: JSON? = nil) -> RunResult {
        RunResult(
            runID: "r", status: .failed, input: [:], output: nil,
            error: RunFailure(code: code, message: message, steps: [], step: "look", details: details),
            steps: [], startedAt: Date(), endedAt: Date(), duration: .zero, plan: nil)
    }

    func expecting(_ error: JSON) -> FlowTestCase {
        FlowTestCase(name: "case", description: nil, input: [:], expected: ["outcome": "failed", "error": error])
    }

    @Test func expectedFailuresCompareCodeAndMessageExactly() {
        #expect(expecting(["code": "COMPONENT_FAILED", "message": "error"]).mismatch(failure()) == nil)
        #expect(expecting(["code": "OTHER", "message": "error"]).mismatch(failure())
            == #"error.code: expected "OTHER", got COMPONENT_FAILED (message "error", from step 'look')"#)
        #expect(expecting(["code": "COMPONENT_FAILED", "message": "Error"]).mismatch(failure())
            == #"error.message: expected "Error", got "error" (code COMPONENT_FAILED, from step 'look')"#)
        // A case that gives neither still only needs the failure.
        #expect(FlowTestCase(name: "c", description: nil, input: [:], expected: ["outcome": "failed"]).mismatch(failure()) == nil)
        // An integer code matches the code written as its text.
        #expect(expecting(["code": 8, "message": "error"]).mismatch(failure(code: "8")) == nil)
        #expect(expecting(["code": 9]).mismatch(failure(code: "8"))?.hasPrefix("error.code: expected 9, got 8") == true)
    }

    @Test func expectedDataMatchesTheDetailsAsASubset() {
        let details: JSON = ["stack": [["error": "x", "attachments": ["a", "b"], "backtrace": "0: main"]], "extra": 1]
        #expect(expecting(["code": "C", "message": "m", "data": ["stack": [["error": "x", "attachments": ["a", "b"]]]]])
            .mismatch(failure(code: "C", message: "m", details: details)) == nil)
        #expect(expecting(["code": "C", "message": "m", "data": ["stack": [["error": "x", "attachments": ["a"]]]]])
            .mismatch(failure(code: "C", message: "m", details: details)) == "error.data.stack[0].attachments: expected 1 elements, got 2")
        #expect(expecting(["data": ["k": 1]]).mismatch(failure())
            == "error.data: expected {\"k\":1}, got an error without details (code COMPONENT_FAILED, from step 'look')")
        // Stepflow drops backtraces before comparing, and every run id matches every other.
        #expect(expecting(["data": ["stack": [["error": "x", "attachments": ["a", "b"], "backtrace": "elsewhere"]], "extra": 1]])
            .mismatch(failure(details: details)) == nil)
        let success = RunResult(
            runID: "r", status: .success, input: [:], output: ["run_id": "abc", "n": 1], error: nil,
            steps: [], startedAt: Date(), endedAt: Date(), duration: .zero, plan: nil)
        let expected = FlowTestCase(name: "c", description: nil, input: [:], expected: ["outcome": "success", "result": ["run_id": "00000000-0000-0000-0000-000000000000", "n": 1]])
        #expect(expected.mismatch(success) == nil)
    }

    @Test func anUnexpectedFailureNamesTheStepAndItsError() {
        let expected = FlowTestCase(name: "c", description: nil, input: [:], expected: ["outcome": "success"])
        #expect(expected.mismatch(failure()) == #"expected success, got failed at step 'look': COMPONENT_FAILED "error""#)
    }
}
