import ArgumentParser
import FoundationEssentials
import Nodal

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Read the run store: recent runs and one run's result or checkpoints; with --server, runs on a Nodal server.",
        subcommands: subcommands)

    #if NODAL_ENGINE_ONLY
    // Built without the run service's client (Package.swift: NODAL_ENGINE_ONLY).
    static let subcommands: [any ParsableCommand.Type] = [List.self, Show.self]
    #else
    static let subcommands: [any ParsableCommand.Type] = [List.self, Show.self, Get.self, Watch.self, Cancel.self, Resume.self]
    #endif

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The most recent runs, newest first.")

        @Option(help: "How many runs.")
        var limit = 20

        @Option(help: "text or json.")
        var format: OutputFormat = .text

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await exiting {
                let store = try await storeOptions.open(configuration: nil)
                let runs = try await store.listRuns(limit: limit)
                // A `running` run whose owner died shows as `abandoned` (it can be resumed).
                var shown: [String: String] = [:]
                for run in runs { shown[run.id] = try await (store as? any RunStorage)?.shownStatus(of: run) ?? run.status.rawValue }
                try? await store.close()
                switch format {
                case .json:
                    print(JSON.array(runs.map { $0.summaryJSON(status: shown[$0.id]) }).prettyPrinted())
                case .text:
                    if runs.isEmpty { print("no runs"); return }
                    // Columns as wide as their widest cell (ids and flow names are the flow's: escaped).
                    let rows = runs.map { run in
                        [DisplayText.escaped(run.id), shown[run.id] ?? run.status.rawValue, run.createdAt.formatted(.iso8601), DisplayText.escaped(run.flowName)]
                    }
                    print(alignedColumns([["RUN ID", "STATUS", "CREATED", "FLOW"]] + rows))
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run, as JSON: its result when it ended, else its checkpoints so far.")

        @Argument(help: "The run's id.")
        var runID: String

        @Option(help: "Accepted like on the other commands; the output is JSON either way (a run's result is JSON).")
        var format: OutputFormat = .text

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await exiting {
                let store = try await storeOptions.open(configuration: nil)
                guard let record = try await store.run(id: runID) else {
                    throw CLIError.notFound("no run '\(runID)' in the store (see `nodal runs list`)")
                }
                let checkpoints = try await (store as? any RunStorage)?.checkpoints(runID: runID) ?? []
                try? await store.close()
                var shown = record.summaryJSON().objectValue ?? JSONObject()
                if let result = record.result {
                    shown["result"] = result
                } else {
                    shown["input"] = record.input
                    shown["checkpoints"] = .array(checkpoints.map { checkpoint in
                        var entry: JSONObject = ["step": .string(checkpoint.stepID), "status": .string(checkpoint.status), "attempts": .int(checkpoint.attempts)]
                        if let output = checkpoint.output { entry["output"] = output }
                        if let error = checkpoint.error { entry["error"] = error }
                        return .object(entry)
                    })
                }
                print(JSON.object(shown).prettyPrinted())
            }
        }
    }
}

extension RunRecord {
    func summaryJSON(status shown: String? = nil) -> JSON {
        [
            "runId": .string(id), "status": .string(shown ?? status.rawValue), "flow": .string(flowName),
            "flowPath": flowPath.map(JSON.string) ?? .null,
            "createdAt": .string(createdAt.formatted(.iso8601)), "updatedAt": .string(updatedAt.formatted(.iso8601)),
        ]
    }
}

extension String {
    /// Padded with spaces to `width` terminal columns (not Characters: a CJK id takes two a piece).
    func padding(_ width: Int) -> String {
        displayWidth >= width ? self : self + String(repeating: " ", count: width - displayWidth)
    }
}

/// Rows as lines of columns, each as wide as its widest cell, two spaces apart; the last column
/// is not padded (no trailing spaces).
func alignedColumns(_ rows: [[String]]) -> String {
    let columns = rows.map(\.count).max() ?? 0
    let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].displayWidth : 0 }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { column, cell in column == row.count - 1 ? cell : cell.padding(widths[column]) }.joined(separator: "  ")
    }.joined(separator: "\n")
}
