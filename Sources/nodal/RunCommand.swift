import ArgumentParser
import Nodal

extension OutputFormat: ExpressibleByArgument {}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a flow and print its output.",
        discussion: "With --format json, prints the whole result: status, output, error and every step's status, input, output, error and timing.")

    @Argument(help: "The flow file (YAML or JSON).")
    var flow: String

    @Option(help: "The run's input as JSON text.")
    var input: String?

    @Option(name: .customLong("input-file"), help: "A file holding the run's input (JSON, or YAML for .yaml/.yml).")
    var inputFile: String?

    @Option(help: "text: the output only; json: the whole result.")
    var format: OutputFormat = .text

    @OptionGroup var engineOptions: EngineOptions

    func validate() throws {
        if input != nil && inputFile != nil { throw ValidationError("give --input or --input-file, not both") }
    }

    func run() async throws {
        try await exiting {
            let runInput = try readInput()
            let flow = try loadFlow(self.flow)
            let engine = try engineOptions.makeEngine(forFlowAt: self.flow)
            try engine.validate(flow)
            let result = await engine.run(flow, input: runInput)
            switch format {
            case .json:
                print(result.json.prettyPrinted())
            case .text:
                if result.status == .success {
                    print((result.output ?? .null).prettyPrinted())
                } else {
                    printError("run \(result.status.rawValue): \(result.error?.message ?? "")")
                    for step in result.error?.steps ?? [] {
                        printError("  step '\(step.id)' (\(step.component)): \(step.code): \(step.message)")
                    }
                }
            }
            if result.status != .success { throw ExitCode(1) }
        }
    }

    func readInput() throws -> JSON {
        if let input { return try parseJSONArgument(input, what: "--input") }
        guard let inputFile else { return .object(JSONObject()) }
        do {
            return try JSON(contentsOfFile: inputFile)
        } catch {
            throw CLIError.usage("--input-file: \(error)")
        }
    }
}
