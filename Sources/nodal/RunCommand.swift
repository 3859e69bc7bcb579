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

    @Option(name: .customLong("input-file"), help: "A file holding the run's input (JSON, or YAML for .yaml/.yml); '-' reads JSON from standard input.")
    var inputFile: String?

    @Option(help: "text: the output only; json: the whole result.")
    var format: OutputFormat = .text

    @Flag(help: "Print every event (step started, succeeded, failed, retried, skipped, progress, log lines) as a JSON line on standard output, then the result as a last `run.finished` line: standard output holds JSON lines only.")
    var events = false

    @Flag(name: .customLong("no-progress"), help: "Do not show the live progress line: a run's steps done / total and running steps, a batch's items done / total (it is shown only when standard error is a terminal).")
    var noProgress = false

    @Flag(name: .customLong("dry-run"), help: "Resolve every component and evaluate what can be evaluated without running steps; print the plan; run nothing.")
    var dryRun = false

    @Option(name: .customLong("var"), help: "A run variable for {$variable: NAME}, as NAME=JSON. Repeatable.")
    var variables: [String] = []

    @Option(name: .customLong("inputs-file"), help: "Run the flow once per line of a JSON-lines file ('-': standard input); print one result line per item.")
    var inputsFile: String?

    @Option(name: .customLong("max-concurrency"), help: "With --inputs-file: the most runs in flight (default \(BatchOptions.defaultMaxConcurrency)).")
    var maxConcurrency: Int?

    @Option(help: "With --inputs-file: the order of the result lines, input or completion.")
    var order: BatchOrderOption = .input

    @Flag(name: .customLong("strict-outputs"), help: "Check outputs against their schemas too: each step's against its node's output schema (a mismatch fails the step with INVALID_OUTPUT) and the flow's against its output schema. Inputs are always checked.")
    var strictOutputs = false

    @Option(name: .customLong("run-id"), help: "The run's id (default: a new UUID); `nodal resume` takes it.")
    var runID: String?

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var engineOptions: EngineOptions

    func validate() throws {
        if input != nil && inputFile != nil { throw ValidationError("give --input or --input-file, not both") }
        if inputsFile != nil && (input != nil || inputFile != nil) {
            throw ValidationError("give --inputs-file or --input/--input-file, not both")
        }
        if events && inputsFile != nil {
            throw ValidationError("--events is for one run; with --inputs-file each item's result is already one JSON line")
        }
        if let maxConcurrency, maxConcurrency < 1 { throw ValidationError("--max-concurrency must be at least 1") }
        if let runID, runID.allSatisfy(\.isWhitespace) {
            throw ValidationError("--run-id must not be empty")
        }
        // A control character in a run id is a terminal escape wherever the id is printed
        // ("go on with `nodal resume ID`") and no one can type it back for `nodal resume`.
        if let runID, let bad = runID.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            let hex = String(bad.value, radix: 16, uppercase: true)
            throw ValidationError("--run-id must not hold control characters (it has U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex))")
        }
    }

    func run() async throws {
        try await exiting {
            try requireReadableFile(self.flow, what: "flow file")
            let runInput = try readInput()
            let engine = try engineOptions.makeEngine(forFlowAt: self.flow)
            let flow = try loadFlow(self.flow, configuration: engine.configuration, strict: engineOptions.strict)
            try engine.validate(flow)

            var options = RunOptions(runID: runID, variables: try parseVariables(), dryRun: dryRun, strictOutputs: strictOutputs)
            let token = CancellationToken()
            options.cancellation = token
            let interrupts = InterruptHandler(token: token)

            if let inputsFile {
                // Batch items are not recorded in the run store (see README: Batches).
                let status = try await PluginExitGuard.guarding {
                    try await runBatchFromFile(
                        engine: engine, flow: flow, path: inputsFile, maxConcurrency: maxConcurrency, order: order,
                        runOptions: options, showProgress: !noProgress)
                }
                withExtendedLifetime(interrupts) {}
                if status != 0 { throw ExitCode(status) }
                return
            }
            let store = dryRun ? nil : try await storeOptions.open(configuration: engine.configuration)
            options.store = store
            let printer = events ? EventPrinter() : nil
            let progress = !noProgress && !dryRun && inputsFile == nil && ProgressLine.isAvailable ? ProgressLine(steps: flow.stepIDs) : nil
            if printer != nil || progress != nil {
                options.onEvent = { event in
                    printer?.print(event)
                    progress?.observe(event)
                }
            }
            let result = await PluginExitGuard.guarding { await engine.run(flow, input: runInput, options: options) }
            progress?.clear()
            withExtendedLifetime(interrupts) {}
            try? await store?.close()

            if let printer {
                printer.printFinished(result, format: format)
            } else if let plan = result.plan, format == .text {
                print(plan.json.prettyPrinted())
                return
            }
            try reportRunResult(result, format: format, resumable: store.map(outlivesProcess) ?? false, printed: printer == nil)
        }
    }

    func parseVariables() throws -> [String: JSON] {
        var values: [String: JSON] = [:]
        for assignment in variables {
            guard let equals = assignment.firstIndex(of: "=") else {
                throw CLIError.usage("--var \(assignment): write NAME=JSON, e.g. --var limit=10")
            }
            let name = String(assignment[..<equals])
            values[name] = try parseJSONArgument(String(assignment[assignment.index(after: equals)...]), what: "--var \(name)")
        }
        return values
    }

    /// `--input`, else `--input-file` (`-`: JSON on standard input), else `{}`. A file that is
    /// not there is `notFound` (66); text that is not JSON (or YAML) is `invalid` (65).
    func readInput() throws -> JSON {
        if let input { return try parseJSONArgument(input, what: "--input") }
        guard let inputFile else { return .object(JSONObject()) }
        if inputFile == "-" {
            // Standard input that cannot be read is 66, as a file's; bytes that are not text
            // (or nothing at all) are input that is not JSON: 65, as the same bytes in a file.
            let bytes: [UInt8]
            do { bytes = try FileSystem.readBytes("/dev/stdin") } catch { throw CLIError.notFound("--input-file -: standard input: \(error.reason)") }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw CLIError.invalid("--input-file - (standard input) is not valid JSON: it is not valid UTF-8 text")
            }
            guard text.contains(where: { !$0.isWhitespace }) else {
                throw CLIError.invalid("--input-file - (standard input) is not valid JSON: standard input is empty")
            }
            return try parseJSONArgument(text, what: "--input-file - (standard input)")
        }
        try requireReadableFile(inputFile, what: "--input-file")
        do {
            return try JSON(contentsOfFile: inputFile)
        } catch {
            throw CLIError.invalid("--input-file: \(error)")
        }
    }
}
