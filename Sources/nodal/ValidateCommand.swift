import ArgumentParser
import Nodal

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a flow: its shape, its expressions, step references, cycles, that every component resolves, and step inputs against their components' input schemas as far as they are known before a run.",
        discussion: "Problems end the command with exit code 65, each naming the step and field. Warnings (a flow without an output, a declared schema that is not a valid JSON Schema) are printed on standard error as `warning: ...` and do not change the exit code.")

    @Argument(help: "The flow file (YAML or JSON).")
    var flow: String

    @OptionGroup var engineOptions: EngineOptions

    func run() async throws {
        try await exiting {
            let engine = try engineOptions.makeEngine(forFlowAt: self.flow)
            let flow = try loadFlow(self.flow, configuration: engine.configuration, strict: engineOptions.strict)
            try engine.validate(flow)
            for warning in engine.warnings(for: flow) { printError("warning: \(warning)") }
            print("\(self.flow): valid (\(flow.stepIDs.count) steps, \(flow.testCases.count) test cases)")
        }
    }
}
