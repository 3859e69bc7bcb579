import ArgumentParser
import Nodal

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the test cases in flows' `test: cases:` and report each.",
        discussion: """
            Prints one line per case and a final 'N passed, N failed' line; exits 1 if any case \
            failed. Expected results match as subsets for objects, by equal length and element for \
            arrays, and by equality for scalars; for an expected failure only the outcome must match.
            """)

    @Argument(help: "Flow files with test cases.")
    var flows: [String]

    @OptionGroup var engineOptions: EngineOptions

    func run() async throws {
        var passed = 0, failed = 0
        for path in flows {
            let flow: Flow
            let engine: Engine
            do {
                engine = try engineOptions.makeEngine(forFlowAt: path)
                flow = try Flow(contentsOfFile: path, configuration: engine.configuration)
                try engine.validate(flow)
            } catch {
                print("ERROR \(path): \(error)")
                failed += 1
                continue
            }
            if flow.testCases.isEmpty { print("NOTE  \(path): no test cases") }
            for testCase in flow.testCases {
                let result = await PluginExitGuard.guarding { await engine.run(flow, input: testCase.input) }
                if let problem = testCase.mismatch(result) {
                    print("FAIL  \(path): \(testCase.name): \(problem)")
                    failed += 1
                } else {
                    print("PASS  \(path): \(testCase.name)")
                    passed += 1
                }
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
