import ArgumentParser
import Nodal

#if canImport(Glibc)
import Glibc
#endif

/// Whether another `nodal` process can find a run in this store (not one held in memory).
func outlivesProcess(_ store: any RunStore) -> Bool {
    if store is InMemoryRunStore { return false }
    if let sqlite = store as? SQLiteRunStore, sqlite.path == ":memory:" { return false }
    return true
}

/// Writes a line to standard error (fd 2 directly: the C `stderr` global is not concurrency-safe).
/// Prints a line on standard error. Control characters other than line feeds and tabs are
/// escaped: messages quote keys, ids and errors from flows and plugins, and none of them may drive
/// the terminal (a colour, a cursor move, a carriage return that overwrites the line).
func printError(_ message: String) {
    writeAll(2, DisplayText.escaped(message, keepingNewlines: true) + "\n")
}

enum OutputFormat: String, CaseIterable {
    case text, json
}

/// Prints a run's result (the output, or the whole result as JSON) and exits as the run ended:
/// 0 success, 1 failed, 73 another process owns the run (or took it over), 74 the store failed, 75 paused, 130 canceled. A run that did not succeed and was recorded
/// says how to resume it; a paused run prints what it shows (on standard output, in text) and
/// the key to answer.
func reportRunResult(_ result: RunResult, format: OutputFormat, resumable: Bool) throws {
    switch format {
    case .json:
        print(result.json.prettyPrinted())
    case .text:
        if result.status == .success {
            print((result.output ?? .null).prettyPrinted())
        } else if let pause = result.pause {
            printError("run paused at step '\(pause.step)', waiting for a value for '\(pause.key)'; it shows:")
            print(pause.value.prettyPrinted())
        } else {
            // The message is the failed step's own (as Stepflow reports it): say which step it is.
            let place = result.error?.step.map { " at step '\($0)'" } ?? ""
            printError("run \(result.status.rawValue)\(place): \(result.error?.message ?? "")")
            for step in result.error?.steps ?? [] {
                printError("  step '\(step.id)' (\(step.component)): \(step.code): \(step.message)")
            }
        }
    }
    // A run refused for its id was not recorded (or is another process's), one whose store
    // failed before any step ran may not be recorded at all, and one that lost its lease is
    // another process's now: nothing to resume from here.
    let neverRecorded = result.error?.code == "STORE_ERROR" && result.steps.allSatisfy { $0.status == .notRun }
    // A run refused before any step (its input does not match the flow's input schema) is
    // refused the same way when resumed.
    let refusedAtStart = ["INVALID_INPUT", "INVALID_FLOW"].contains(result.error?.code ?? "") && result.steps.allSatisfy { $0.status == .notRun }
    let resumable = resumable && !neverRecorded && !refusedAtStart && !["RUN_EXISTS", "RUN_OWNED", "LEASE_LOST"].contains(result.error?.code ?? "")
    if let pause = result.pause, resumable {
        printError("run id \(result.runID): answer with `nodal resume \(result.runID) --value \(pause.key)=JSON`")
    } else if result.status != .success && resumable {
        printError("run id \(result.runID): go on with `nodal resume \(result.runID)`")
    }
    if result.status == .paused { throw ExitCode(75) }
    if result.error?.code == "RUN_OWNED" || result.error?.code == "LEASE_LOST" { throw ExitCode(73) }
    if result.error?.code == "STORE_ERROR" { throw ExitCode(74) }
    if result.status == .canceled { throw ExitCode(130) }
    if result.status != .success { throw ExitCode(1) }
}
