import ArgumentParser
import Nodal
import NodalClient
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `nodal runs get|watch|cancel|resume ID --server URL`: a run on a Nodal server.
extension RunsCommand {
    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A run's summary and item results: on a server (--server), else in the local store (as `runs show`).")

        @Argument(help: "The run's id.")
        var runID: String

        @OptionGroup var remote: RemoteOptions

        @Flag(help: "With --server: poll until the run ends (or pauses); the exit code then says how it ended.")
        var wait = false

        @Option(help: "With --wait: seconds between polls (default 1).")
        var interval: Double?

        @Option(help: "With --wait: give up after this many seconds (exit code 75).")
        var timeout: Double?

        @Option(help: "text or json ({summary, results}).")
        var format: OutputFormat = .text

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if (interval != nil || timeout != nil) && !wait { throw ValidationError("--interval and --timeout are for --wait") }
            if remote.server == nil && wait { throw ValidationError("--wait follows a run on a server: give --server URL") }
            if remote.server != nil && storeOptions.store != nil { throw ValidationError("give --server or --store, not both") }
        }

        func run() async throws {
            guard remote.server != nil else {
                let show = try Show.parse([runID, "--format", format.rawValue] + (storeOptions.store.map { ["--store", $0] } ?? []))
                try await show.run()
                return
            }
            try await remoteExiting { try await remote.withClient(for: "nodal runs get") { client in
                let run = client.run(id: runID)
                let summary: RunSummary
                if wait {
                    let interval = try self.interval.map { try seconds($0, option: "--interval") } ?? .seconds(1)
                    summary = try await run.wait(interval: interval, timeout: try timeout.map { try seconds($0, option: "--timeout") })
                } else {
                    summary = try await run.refresh()
                }
                let results = try await run.results()
                switch format {
                case .json: print(runJSON(summary, results).prettyPrinted())
                case .text:
                    print(summaryText(summary))
                    for result in results { print("  " + resultText(result)) }
                }
                if wait { throw exitStatus(of: summary.status).exitCode }
            } }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow a run on a server as it goes: a live progress line on a terminal, else one JSON line per event.",
            discussion: "Ends when the run ends, with the exit code of how it ended (as `nodal run`). A dropped connection is opened again from the last event seen.")

        @Argument(help: "The run's id.")
        var runID: String

        @OptionGroup var remote: RemoteOptions

        @Option(help: "text: the progress line on a terminal (JSON lines when standard output is not one); json: JSON lines always.")
        var format: OutputFormat = .text

        @Flag(name: .customLong("include-results"), help: "Put step and item results in the events.")
        var includeResults = false

        func run() async throws {
            try await remoteExiting {
                guard remote.server != nil else {
                    throw CLIError.usage("`nodal runs watch` follows a run on a server: give --server URL (`nodal run --events` follows a local run)")
                }
                try await remote.withClient(for: "nodal runs watch") { client in
                let run = client.run(id: runID)
                // Read first so an unknown run is refused before the stream opens, and so the
                // progress line knows the item count.
                let first = try await run.refresh()
                let lines = format == .json || isatty(1) == 0
                let progress = lines || !Console.hasTerminal ? nil : WatchProgress(runID: runID, total: first.items.total, done: first.items.finished)
                var ended: ExecutionStatus?
                for try await event in run.events(includeResults: includeResults) {
                    if lines { Console.write(event.json.serialized() + "\n", to: 1) }
                    progress?.observe(event)
                    if let status = event.completedStatus { ended = status }
                }
                progress?.stop()
                let status = ended ?? first.status
                if !lines { print(summaryText(try await run.refresh())) }
                throw exitStatus(of: status).exitCode
                }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a run on a server.")

        @Argument(help: "The run's id.")
        var runID: String

        @OptionGroup var remote: RemoteOptions

        @Option(help: "text or json ({summary}).")
        var format: OutputFormat = .text

        func run() async throws {
            try await remoteExiting {
                guard remote.server != nil else {
                    throw CLIError.usage("`nodal runs cancel` cancels a run on a server: give --server URL (a local `nodal run` stops with Ctrl-C)")
                }
                let summary = try await remote.withClient(for: "nodal runs cancel") { try await $0.run(id: runID).cancel() }
                switch format {
                case .json: print(runJSON(summary, nil).prettyPrinted())
                case .text: print(summaryText(summary))
                }
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer a paused run on a server: --value JSON for the one key it waits for, or --set KEY=JSON per key.")

        @Argument(help: "The run's id.")
        var runID: String

        @OptionGroup var remote: RemoteOptions

        @Option(help: ArgumentHelp("The answer, as JSON, to the one key the run waits for.", valueName: "JSON"))
        var value: String?

        @Option(name: .customLong("set"), help: ArgumentHelp("The answer to a named key, KEY=JSON. Repeatable.", valueName: "KEY=JSON"))
        var answers: [String] = []

        @Option(help: "text or json ({summary}).")
        var format: OutputFormat = .text

        func validate() throws {
            if value != nil && !answers.isEmpty { throw ValidationError("give --value or --set, not both") }
            if value == nil && answers.isEmpty { throw ValidationError("give the answer: --value JSON, or --set KEY=JSON") }
        }

        func run() async throws {
            try await remoteExiting {
                guard remote.server != nil else {
                    throw CLIError.usage("`nodal runs resume` answers a run on a server: give --server URL (`nodal resume ID --value KEY=JSON` answers a local run)")
                }
                try await remote.withClient(for: "nodal runs resume") { client in
                let run = client.run(id: runID)
                let summary: RunSummary
                if let value {
                    let answer: JSON
                    do { answer = try JSON(parsing: value) } catch {
                        // `nodal resume` takes KEY=JSON here; say where that goes.
                        let hint = value.contains("=") ? " (for a named key: --set KEY=JSON)" : ""
                        throw CLIError.invalid("--value is not valid JSON\(hint): \(error)")
                    }
                    summary = try await run.resume(value: answer)
                } else {
                    let pairs = try parseAssignments(answers, option: "--set")
                    summary = try await run.resume(values: JSONObject(pairs.map { (key: $0.0, value: $0.1) }))
                }
                switch format {
                case .json: print(runJSON(summary, run.lastResults).prettyPrinted())
                case .text: print(summaryText(summary))
                }
                }
            }
        }
    }
}

/// `nodal runs watch`'s line on a terminal: `[3/10] items done, 1 failed · running: fetch, parse`.
final class WatchProgress: Sendable {
    private struct State {
        var total: Int
        var done: Int
        var failed = 0
        var paused = 0
        /// Running steps as `item:step`, in the order they started.
        var running: [String] = []
    }
    private let state: Mutex<State>
    private let status = Mutex<LiveStatus?>(nil)

    private let runID: String

    init(runID: String, total: Int, done: Int) {
        self.runID = runID
        state = Mutex(State(total: total, done: done))
        let live = LiveStatus { [weak self] in
            self?.state.withLock { state in
                var line = "[\(state.done)/\(state.total)] items done"
                if state.failed > 0 { line += ", \(state.failed) failed" }
                if state.paused > 0 { line += ", \(state.paused) paused" }
                if !state.running.isEmpty {
                    // Step ids come from the flow: escaped, so that none can drive the terminal.
                    let shown = state.running.prefix(4).map { DisplayText.escaped($0) }.joined(separator: ", ")
                    line += " · running: " + shown + (state.running.count > 4 ? ", ..." : "")
                }
                return line
            } ?? ""
        }
        status.withLock { $0 = live }
    }

    func observe(_ event: RunStatusEvent) {
        let payload = event.payload
        let step = payload?["stepId"]?.stringValue ?? "?"
        let item = payload?["itemIndex"]?.intValue ?? 0
        // One item's steps are shown by id; a batch's with their item.
        let note = state.withLock { state -> String? in
            let key = state.total > 1 ? "\(item):\(step)" : step
            switch event.name {
            case "run_created":
                if let count = payload?["itemCount"]?.intValue { state.total = count }
            case "step_started":
                if !state.running.contains(key) { state.running.append(key) }
            case "step_completed":
                state.running.removeAll { $0 == key }
            case "item_completed":
                state.done += 1
                let prefix = "\(item):"
                state.running.removeAll { state.total <= 1 || $0.hasPrefix(prefix) }
                if ExecutionStatus(json: payload?["status"]) == .failed { state.failed += 1 }
            case "run_paused":
                // Nodal's: an item waits for an answer; the run goes on only once it has one.
                state.paused += 1
                state.running.removeAll { $0 == key }
                let waitsFor = payload?["key"]?.stringValue ?? "?"
                return "item \(item) paused at step '\(step)', waiting for '\(waitsFor)': answer with `nodal runs resume \(runID) --server URL --value JSON`"
            default:
                break
            }
            return nil
        }
        if let note { printError(note) }
    }

    func stop() { status.withLock { $0?.stop() } }
}
