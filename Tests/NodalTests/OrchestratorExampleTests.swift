import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON

/// The orchestrator plugin (plugins/orchestrator) and its example flows (examples/orchestrator):
/// every test case passes, with the default pool and with a blocking-call pool of one thread.
@Suite struct OrchestratorExampleTests {
    static let examples = ["subworkflows", "batch", "polling"]

    static func engine(blockingThreads: Int? = nil) throws -> Engine {
        let engine = Engine(blockingThreads: blockingThreads)
        try engine.loadPlugin(at: Products.plugin("nodal_std"))
        try engine.loadPlugin(at: Products.plugin("nodal_orchestrator"))
        return engine
    }

    @Test(arguments: [nil, 1])
    func theExamplesPassTheirTestCases(blockingThreads: Int?) async throws {
        let engine = try Self.engine(blockingThreads: blockingThreads)
        var cases = 0
        for name in Self.examples {
            let flow = try Flow(contentsOfFile: Products.repositoryRoot + "/examples/orchestrator/\(name).yaml")
            try engine.validate(flow)
            #expect(!flow.testCases.isEmpty, "\(name) has no test cases")
            for testCase in flow.testCases {
                let result = await engine.run(flow, input: testCase.input)
                #expect(testCase.mismatch(result) == nil, "\(name): \(testCase.name): \(testCase.mismatch(result) ?? "")")
                cases += 1
            }
        }
        #expect(cases == 7)
    }

    /// What the host refuses reaches the flow with the host's own code, and bad input is named.
    @Test func refusalsKeepTheHostsCodeAndBadInputIsNamed() async throws {
        let engine = try Self.engine()
        let zeros = String(repeating: "0", count: 64)
        let cases: [(String, String, String)] = [
            ("{ id: x, component: /orchestrator/process_batch, input: { flowId: \"\(zeros)\", items: [1] } }", "BLOB_NOT_FOUND", zeros),
            ("{ id: x, component: /orchestrator/orchestrate, input: { flow: { steps: 3 }, items: [1] } }", "INVALID_INPUT", "not a valid flow"),
            ("{ id: x, component: /orchestrator/submit_and_poll, input: { flowId: \"sha256:\(zeros)\" } }", "INVALID_INPUT", "'input'"),
            ("{ id: x, component: /orchestrator/submit_and_poll, input: { input: 1 } }", "INVALID_INPUT", "'flowId'"),
            ("{ id: x, component: /orchestrator/process_batch, input: { flowId: \"\(zeros)\", items: [1], maxConcurrency: 0 } }", "INVALID_INPUT", "maxConcurrency"),
        ]
        for (step, code, fragment) in cases {
            let result = await engine.run(try Flow(yaml: "steps: [\(step)]\noutput: { $step: x }"), input: [:])
            let error = try #require(result.step("x")?.error, "\(result.json)")
            #expect(error.code == code, "\(step): \(error)")
            #expect(error.message.contains(fragment), "\(step): \(error.message)")
        }
        // The host's reply comes along as the error's details.
        let refused = await engine.run(try Flow(yaml: "steps: [\(cases[0].0)]\noutput: { $step: x }"), input: [:])
        #expect(refused.step("x")?.error?.details?["code"] == "BLOB_NOT_FOUND")
    }
}
