import Foundation
import NodalTestSupport
import Testing
@testable import NodalCore
@testable import NodalJSON
@testable import NodalSQLite

/// Issue 11, hostile trial: unbounded nesting of flows. An `eval` of its own flow grew to 6.8 GB,
/// and a chain of 500 sub-flow files overflowed the stack in `validate` and `run`. Sub-flows,
/// `eval`, `map` and `iterate` now count against one nesting limit (32).
@Suite struct HardeningNestingTests {
    func readError(_ body: () throws -> Flow) -> FlowError? {
        do {
            _ = try body()
            Issue.record("expected the flow to be refused")
            return nil
        } catch {
            return error as? FlowError
        }
    }

    // MARK: eval, map and iterate of their own flow

    /// A flow whose one step runs, with `builtin`, the flow it is given as input, passing it on.
    static func selfRunning(_ builtin: String) throws -> (flow: Flow, document: JSON) {
        let input: String = switch builtin {
        case "eval": "{ flow: { $input: flow }, input: { flow: { $input: flow } } }"
        case "map": "{ workflow: { $input: flow }, items: [{ flow: { $input: flow } }] }"
        default: "{ flow: { $input: flow }, initial_input: { flow: { $input: flow } } }"
        }
        let yaml = "steps: [{ id: again, component: /builtin/\(builtin), input: \(input) }]\noutput: { $step: again }\n"
        let flow = try Flow(yaml: yaml)
        let node = try YAMLConversion.compose(yaml, file: nil)!
        return (flow, try YAMLConversion.json(node, file: nil))
    }

    @Test(arguments: ["eval", "map", "iterate"])
    func aFlowThatRunsItselfStopsAtTheNestingLimit(builtin: String) async throws {
        let (flow, document) = try Self.selfRunning(builtin)
        let result = await Engine().run(flow, input: ["flow": document])
        // The innermost step fails with the chain; the levels above report it as their outcome.
        let everything = result.json.serialized()
        #expect(everything.contains("flows are nested more than 32 deep"), "\(everything.prefix(2000))")
        #expect(everything.contains("\(builtin) step 'again' -> \(builtin) step 'again'"))
        #expect(everything.contains("(25 more)"))  // 33 levels shown as 4 + 4
    }

    @Test func theLimitCountsSubflowsAndEvalTogether() async throws {
        // 30 sub-flow files deep, the innermost evals itself: it may go 2 levels further.
        var files: [String: String] = [:]
        for level in 0..<30 {
            files["f\(level).yaml"] = "steps: [{ id: s\(level), flow: f\(level + 1).yaml, input: { flow: { $input: flow } } }]\noutput: { $step: s\(level) }\n"
        }
        files["f30.yaml"] = "steps: [{ id: again, component: /builtin/eval, input: { flow: { $input: flow }, input: { flow: { $input: flow } } } }]\noutput: { $step: again }\n"
        let directory = try temporaryDirectory(containing: files)
        let flow = try Flow(contentsOfFile: directory + "/f0.yaml")
        let (_, document) = try Self.selfRunning("eval")
        let result = await Engine().run(flow, input: ["flow": document])
        let everything = result.json.serialized()
        #expect(everything.contains("flows are nested more than 32 deep"))
        #expect(everything.contains("sub-flow f1.yaml (step 's0')"))
        #expect(everything.contains("eval step 'again'"))
    }

    // MARK: sub-flow chains

    static func chain(_ count: Int) throws -> String {
        var files: [String: String] = [:]
        for index in 0..<count {
            files["c\(index).yaml"] = index == count - 1
                ? "steps: []\noutput: { depth: \(index) }\n"
                : "steps: [{ id: next, flow: c\(index + 1).yaml }]\noutput: { $step: next }\n"
        }
        return try temporaryDirectory(containing: files)
    }

    @Test func aChainOf500SubflowFilesIsRefusedNamingTheChain() throws {
        let directory = try Self.chain(500)
        let error = try #require(readError { try Flow(contentsOfFile: directory + "/c0.yaml") })
        #expect(error.message.contains("flows are nested more than 32 deep (sub-flows, eval, map and iterate together)"))
        #expect(error.message.contains("sub-flow c1.yaml (step 'next') -> sub-flow c2.yaml"))
        #expect(error.file == directory + "/c32.yaml")
        #expect(error.step == "next")
    }

    @Test func thirtyTwoLevelsOfSubflowsValidateAndRun() async throws {
        let directory = try Self.chain(33)  // c0 includes c1 ... c32: 32 levels below the top
        let flow = try Flow(contentsOfFile: directory + "/c0.yaml")
        let engine = Engine()
        try engine.validate(flow)
        #expect(await engine.run(flow, input: [:]).output == ["depth": 32])
        let deeper = try Self.chain(34)
        #expect(readError { try Flow(contentsOfFile: deeper + "/c0.yaml") } != nil)
    }
}
