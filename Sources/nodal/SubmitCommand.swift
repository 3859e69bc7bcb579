import ArgumentParser
import Nodal
import NodalClient

/// `nodal submit FLOW --server URL`: stores the flow on a server and starts a run of it there.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Store a flow on a Nodal server and start a run of it there.",
        discussion: """
            Each --input is one item of the run; --inputs-file gives many (a JSON array, or JSON lines: one item a \
            line). Without either the run has one item, {}. Prints the run's id (`nodal runs get|watch|cancel ID \
            --server URL` follow it), or with --wait its outputs; with --format json the summary (and results).
            """)

    @Argument(help: "The flow file (YAML or JSON).")
    var flow: String

    @OptionGroup var remote: RemoteOptions

    @Option(help: "One item's input as JSON text. Repeatable: one item each.")
    var input: [String] = []

    @Option(name: .customLong("inputs-file"), help: "The items: a JSON array, or JSON lines (one item a line); '-' reads standard input.")
    var inputsFile: String?

    @Option(name: .customLong("var"), help: "A run variable for {$variable: NAME}, as NAME=JSON. Repeatable.")
    var variables: [String] = []

    @Option(name: .customLong("max-concurrency"), help: "The most items the server runs at once.")
    var maxConcurrency: Int?

    @Flag(help: "Wait until the run ends (or pauses) and print its results; the exit code says how it ended.")
    var wait = false

    @Option(help: "With --wait: give up after this many seconds (exit code 75; the run goes on).")
    var timeout: Double?

    @Option(help: "text: the run id, or with --wait the outputs; json: the summary, and with --wait the results.")
    var format: OutputFormat = .text

    func validate() throws {
        if !input.isEmpty && inputsFile != nil { throw ValidationError("give --input or --inputs-file, not both") }
        if timeout != nil && !wait { throw ValidationError("--timeout is for --wait") }
        if let maxConcurrency, maxConcurrency < 1 { throw ValidationError("--max-concurrency must be at least 1") }
        if remote.server == nil { throw ValidationError("give the server with --server URL") }
    }

    func run() async throws {
        try await remoteExiting { try await remote.withClient(for: "nodal submit") { client in
            let document = try readFlowDocument(flow)
            let inputs = try readInputs()
            let timeout = try self.timeout.map { try seconds($0, option: "--timeout") }
            var options = RunStartOptions(maxConcurrency: maxConcurrency)
            let assignments = try parseAssignments(variables, option: "--var")
            if !assignments.isEmpty { options.variables = JSONObject(assignments.map { (key: $0.0, value: $0.1) }) }

            let flowID = try await client.storeFlow(document)
            guard wait else {
                let run = try await client.startRun(flowID: flowID, inputs: inputs, options: options)
                switch format {
                case .text: print(DisplayText.escaped(run.id))
                case .json: print(runJSON(run.status!, nil).prettyPrinted())
                }
                return
            }
            let deadline = timeout.map { ContinuousClock.now.advanced(by: $0) }
            options.wait = true
            options.timeout = waitSlice(until: deadline)
            let run = try await client.startRun(flowID: flowID, inputs: inputs, options: options)
            let summary = try await waitForEnd(run, until: deadline, seconds: self.timeout)
            let results = summary.status.isFinal && run.lastResults?.count == summary.items.total ? run.lastResults! : try await run.results()
            try report(summary, results)
        } }
    }

    /// Prints the ended run and exits as it ended. Text: the output of one item (as `nodal run`
    /// prints it), or a JSON line per item's result; why items failed on standard error.
    private func report(_ summary: RunSummary, _ results: [ItemResult]) throws {
        switch format {
        case .json:
            print(runJSON(summary, results).prettyPrinted())
        case .text:
            if results.count == 1, let only = results.first, only.status == .completed {
                print((only.output ?? .null).prettyPrinted())
            } else if results.count > 1 {
                for result in results { Console.write(result.json.serialized() + "\n", to: 1) }
            }
            if summary.status != .completed {
                printError(summaryText(summary))
                for result in results where result.status != .completed { printError("  " + resultText(result)) }
            }
        }
        throw exitStatus(of: summary.status).exitCode
    }

    /// The flow file as the JSON document the server stores, checked here first so that a typo
    /// is reported with its file and line. A step that runs a sub-flow file is refused: the
    /// server cannot read files of this machine.
    func readFlowDocument(_ path: String) throws -> JSON {
        try requireReadableFile(path, what: "flow file")
        let checked = try loadFlow(path, configuration: NodalConfig())
        let document: JSON
        if path.hasSuffix(".json") || path.hasSuffix(".yaml") || path.hasSuffix(".yml") {
            do { document = try JSON(contentsOfFile: path) } catch { throw CLIError.invalid(error.description) }
        } else {
            // Other names are read as YAML by the loader; JSON is YAML, so JSON text is taken.
            do { document = try JSON(parsing: try FileSystem.readText(path)) } catch {
                throw CLIError.invalid("\(path): name the flow file .yaml, .yml or .json to submit it (\(error))")
            }
        }
        if let step = checked.steps.first(where: { $0.subflow != nil }) {
            throw CLIError.invalid("\(path): step '\(step.id)' runs the sub-flow file '\(step.subflow!.path)', which the server cannot read; write the sub-flow into the flow to submit it")
        }
        return document
    }

    /// The run's items: each --input, or --inputs-file's, or one `{}`.
    func readInputs() throws -> [JSON] {
        if let inputsFile { return try readInputsFile(inputsFile) }
        if input.isEmpty { return [.object(JSONObject())] }
        return try input.enumerated().map { index, text in try parseJSONArgument(text, what: "--input #\(index + 1)") }
    }

    /// A JSON array (the file's text starts with `[` and is one array), else JSON lines: each
    /// non-blank line one item. A line that is not JSON refuses the whole submission, naming it.
    func readInputsFile(_ path: String) throws -> [JSON] {
        let source = path == "-" ? "/dev/stdin" : path
        if path != "-" { try requireReadableFile(path, what: "--inputs-file") }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readBytes(source) } catch { throw CLIError.notFound("--inputs-file \(path): \(error.reason)") }
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        if body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "["), let whole = try? JSON(parsing: Array(body)), case .array(let items) = whole {
            return items
        }
        var items: [JSON] = []
        for (number, line) in body.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.last == 0x0D ? line.dropLast() : line
            if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do { items.append(try JSON(parsing: Array(trimmed))) } catch {
                throw CLIError.invalid("--inputs-file \(path): line \(number + 1) is not valid JSON: \(error)")
            }
        }
        return items
    }
}

/// How long one server-side wait lasts: at most a minute (under the HTTP client's read timeout),
/// less when the caller's deadline is nearer.
func waitSlice(until deadline: ContinuousClock.Instant?) -> Duration {
    let slice = Duration.seconds(60)
    guard let deadline else { return slice }
    return max(.milliseconds(1), min(slice, ContinuousClock.now.duration(to: deadline)))
}

/// Waits on the server's side, a slice at a time, until the run ends or pauses; past `deadline`
/// throws `.timeout` with the last summary (`seconds`: the timeout as given, for the message).
func waitForEnd(_ run: RemoteRun, until deadline: ContinuousClock.Instant?, seconds: Double?) async throws -> RunSummary {
    var summary: RunSummary
    if let seen = run.status { summary = seen } else { summary = try await run.refresh() }
    while !summary.status.isSettled {
        if let deadline, ContinuousClock.now >= deadline {
            let waited = seconds.map { " after \($0) s" } ?? ""
            throw NodalClientError(
                .timeout, "run \(run.id) is still \(summary.status)\(waited) (\(summary.items)); it goes on (`nodal runs get \(run.id) --server URL`)",
                lastStatus: summary.json)
        }
        summary = try await run.refresh(waitingUpTo: waitSlice(until: deadline))
    }
    return summary
}

/// `NAME=JSON` arguments (`--var`, `--set`) as pairs, in order.
func parseAssignments(_ assignments: [String], option: String) throws -> [(String, JSON)] {
    try assignments.map { assignment in
        guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
            throw CLIError.usage("\(option) \(assignment): write NAME=JSON, e.g. \(option) limit=10")
        }
        let name = String(assignment[..<equals])
        return (name, try parseJSONArgument(String(assignment[assignment.index(after: equals)...]), what: "\(option) \(name)"))
    }
}
