import ArgumentParser
import Nodal

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a flow: its shape, its expressions, step references, cycles and that every component resolves.")

    @Argument(help: "The flow file (YAML or JSON).")
    var flow: String

    @OptionGroup var engineOptions: EngineOptions

    func run() async throws {
        try await exiting {
            let engine = try engineOptions.makeEngine(forFlowAt: self.flow)
            let flow = try loadFlow(self.flow, configuration: engine.configuration, strict: engineOptions.strict)
            try engine.validate(flow)
            print("\(self.flow): valid (\(flow.stepIDs.count) steps, \(flow.testCases.count) test cases)")
        }
    }
}
