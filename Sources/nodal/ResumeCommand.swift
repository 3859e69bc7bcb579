import ArgumentParser
import Nodal

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Go on with a run that paused, failed, was canceled or was killed, without re-running the steps that finished.",
        discussion: """
            The flow is read again from the file the run started from; if that file changed since, the resume is refused \
            unless --allow-changed-flow is given. A paused run needs the value it waits for: --value KEY=JSON, with the \
            key `nodal run` printed (e.g. --value 'review.decision={"approved": true}').
            """)

    @Argument(help: "The run's id (`nodal runs list` shows them).")
    var runID: String

    @Option(name: .customLong("value"), help: ArgumentHelp("The answer to a paused run's interrupt: KEY=JSON.", valueName: "KEY=JSON"))
    var values: [String] = []

    @Flag(name: .customLong("allow-changed-flow"), help: "Resume even though the flow file changed since the run started.")
    var allowChangedFlow = false

    @Option(help: "text: the output only; json: the whole result.")
    var format: OutputFormat = .text

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var engineOptions: EngineOptions

    func run() async throws {
        try await exiting {
            // The store named by --store or the environment (a config is only found through the flow).
            let answers = try parseAnswers()
            let store = try await storeOptions.open(configuration: nil)
            guard let record = try await store.run(id: runID) else {
                throw CLIError.notFound("no run '\(runID)' in the store (see `nodal runs list`)")
            }
            let engine = try engineOptions.makeEngine(forFlowAt: record.flowPath)
            let token = CancellationToken()
            let interrupts = InterruptHandler(token: token)
            let result = try await PluginExitGuard.guarding {
                try await engine.resume(
                    runID: runID, store: store, values: answers, options: RunOptions(cancellation: token), allowChangedFlow: allowChangedFlow)
            }
            withExtendedLifetime(interrupts) {}
            try? await store.close()
            try reportRunResult(result, format: format, resumable: true)
        }
    }

    private func parseAnswers() throws -> [String: JSON] {
        var answers: [String: JSON] = [:]
        for assignment in values {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw CLIError.usage("--value \(assignment): write KEY=JSON, e.g. --value 'review.decision={\"approved\": true}'")
            }
            let key = String(assignment[..<equals])
            answers[key] = try parseJSONArgument(String(assignment[assignment.index(after: equals)...]), what: "--value \(key)")
        }
        return answers
    }
}
