import ArgumentParser
import Nodal

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the test cases in flows' `test: cases:` and report each.",
        discussion: """
            Prints one line per case (PASS, or FAIL with what differed: the path into the result, \
            what was expected and what the run gave) and a final 'N passed, N failed' line; exits 1 \
            if any case failed. As in `stepflow test`: expected results match as subsets for \
            objects, by equal length and element for arrays, and by equality for scalars (a \
            `run_id` matches any run id). For an expected failure, `error.code` and \
            `error.message` must equal the run's when the case gives them, and `error.data` \
            matches the error's details as a subset.

            Configuration, for each flow: --config FILE (or $NODAL_CONFIG) when given; else the \
            flow's `test.config_file` (a file relative to the flow, inside its folder) or inline \
            `test.config`; else stepflow-config.test.yml beside the flow; else the configuration \
            `nodal run` would use (nodal-config.yml or stepflow-config.yml beside the flow, then \
            in the working directory, then ~/.config/nodal/nodal-config.yml). Only --config, \
            $NODAL_CONFIG and your own ~/.config/nodal configuration may grant powers (ffi: \
            allow:, files: allow:, plugin paths); your own grants apply to the others too.
            """)

    @Argument(help: "Flow files with test cases.")
    var flows: [String]

    @OptionGroup var engineOptions: EngineOptions

    func run() async throws {
        try await exiting { try engineOptions.checkPluginPaths() }
        var passed = 0, failed = 0
        for path in flows {
            let flow: Flow
            let engine: Engine
            do {
                engine = try makeEngine(forFlowAt: path)
                flow = try Flow(contentsOfFile: path, configuration: engine.configuration, strict: engineOptions.strict)
                for warning in flow.warnings { printError("warning: \(warning)") }
                try engine.validate(flow)
            } catch {
                print("ERROR \(DisplayText.escaped(path)): \(DisplayText.escaped("\(error)", keepingNewlines: true))")
                failed += 1
                continue
            }
            if flow.testCases.isEmpty { print("NOTE  \(DisplayText.escaped(path)): no test cases") }
            for testCase in flow.testCases {
                let result = await PluginExitGuard.guarding { await engine.run(flow, input: testCase.input) }
                // Case names and the values a problem quotes come from the flow and its run:
                // escaped, so that none can forge a PASS line or drive the terminal.
                let name = DisplayText.escaped(testCase.name)
                if let problem = testCase.mismatch(result) {
                    print("FAIL  \(DisplayText.escaped(path)): \(name): \(DisplayText.escaped(problem))")
                    failed += 1
                } else {
                    print("PASS  \(DisplayText.escaped(path)): \(name)")
                    passed += 1
                }
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }

    /// `EngineOptions.makeEngine(forFlowAt:)` with the test configuration
    /// (`NodalConfig.forTest(ofFlowAt:named:)`) in place of the run one. (An `EngineOptions`
    /// method taking the configuration would let both share this.)
    private func makeEngine(forFlowAt path: String) throws -> Engine {
        guard engineOptions.maxOutputBytes >= 0 else {
            throw CLIError.usage("--max-output-bytes must be 0 or more, not \(engineOptions.maxOutputBytes)")
        }
        let configuration = try NodalConfig.forTest(ofFlowAt: path, named: engineOptions.config)
        let engine = Engine(configuration: configuration, extensions: [.ffi], maxOutputBytes: engineOptions.maxOutputBytes)
        let refusals = engine.loadPlugins(searchPath: Engine.pluginSearchPath(explicit: engineOptions.pluginPaths, configuration: configuration))
        for refusal in refusals { printError("warning: \(refusal)") }
        return engine
    }
}
