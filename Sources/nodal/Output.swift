import ArgumentParser
import FoundationEssentials
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

/// Prints a line on standard error. Control characters other than line feeds and tabs are
/// escaped: messages quote keys, ids and errors from flows and plugins, and none of them may drive
/// the terminal (a colour, a cursor move, a carriage return that overwrites the line). The line
/// goes through `Console`, so it never lands inside a progress line.
func printError(_ message: String) {
    Console.write(DisplayText.escaped(message, keepingNewlines: true) + "\n", to: 2)
}

enum OutputFormat: String, CaseIterable {
    case text, json
}

/// Prints a run's result and exits as `ExitStatus` says: 0 success, 1 failed, 73 the run id is
/// taken (or another process took the run over), 74 the store failed, 75 paused, 130 canceled.
///
/// On standard output, unless `printed` is false (`--events` printed the result as its last
/// line): the output (`text`), or the whole result (`json`); a paused run in text prints what
/// its interrupt shows. On standard error: why a run did not succeed, in text what a canceled
/// run had done (each step's status, and what the finished ones returned), and, for a run
/// that was recorded, how to resume it.
func reportRunResult(_ result: RunResult, format: OutputFormat, resumable: Bool, printed: Bool = true) throws {
    switch format {
    case .json:
        if printed { print(result.json.prettyPrinted()) }
    case .text:
        if result.status == .success {
            if printed { print((result.output ?? .null).prettyPrinted()) }
        } else if let pause = result.pause {
            printError("run paused at step '\(pause.step)', waiting for a value for '\(pause.key)'" + (printed ? "; it shows:" : ""))
            if printed { print(pause.value.prettyPrinted()) }
        } else {
            // The message is the failed step's own (as Stepflow reports it): say which step it is.
            let place = result.error?.step.map { " at step '\($0)'" } ?? ""
            printError("run \(result.status.rawValue)\(place): \(result.error?.message ?? "")")
            for step in result.error?.steps ?? [] {
                printError("  step '\(step.id)' (\(step.component)): \(step.code): \(step.message)")
            }
            if result.status == .canceled { printError(partialResult(of: result)) }
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
    throw exitStatus(of: result).exitCode
}

/// Where a run's end sits in the exit code table.
func exitStatus(of result: RunResult) -> ExitStatus {
    switch result.error?.code {
    case "RUN_EXISTS", "RUN_OWNED", "LEASE_LOST": return .runTaken
    case "STORE_ERROR": return .store
    default: break
    }
    switch result.status {
    case .success: return .success
    case .paused: return .paused
    case .canceled: return .canceled
    case .failed: return .failed
    }
}

/// What a canceled run had done, for text mode: how many of its steps finished, then each step's
/// status, with the time and (compact, cut at 200 characters) output of those that succeeded.
/// `--format json` prints all of it in full.
func partialResult(of result: RunResult) -> String {
    let finished = result.steps.filter { $0.status == .success || $0.status == .failed }.count
    var lines = ["partial result: \(finished) of \(result.steps.count) steps finished before the run stopped (all of it: --format json)"]
    for step in result.steps {
        var line = "  step '\(step.id)': \(step.status.rawValue)"
        if let started = step.startedAt, let ended = step.endedAt, step.status == .success || step.status == .failed {
            line += " in \(formatMilliseconds(ended.timeIntervalSince(started) * 1000)) ms"
        }
        if step.status == .success, let output = step.output {
            let text = output.serialized()
            line += ": " + (text.count > 200 ? String(text.prefix(200)) + "..." : text)
        } else if step.status == .failed, let error = step.error {
            line += ": \(error.code): \(error.message)"
        }
        lines.append(line)
    }
    return lines.joined(separator: "\n")
}

func formatMilliseconds(_ milliseconds: Double) -> String {
    let tenths = Int((max(0, milliseconds) * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}
