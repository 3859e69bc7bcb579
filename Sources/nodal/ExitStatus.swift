import ArgumentParser

/// The exit codes of every `nodal` command: one table, printed by `nodal --help` and written in
/// README ("Exit codes"); `ExitCodeTests` runs a case of each row and checks both lists agree.
/// The codes follow sysexits.h where it has one (64 to 75).
enum ExitStatus: Int32, CaseIterable {
    case success = 0
    case failed = 1
    case usage = 64
    case invalid = 65
    case notFound = 66
    case plugin = 69
    case nativeExit = 70
    case runTaken = 73
    case store = 74
    case paused = 75
    case canceled = 130

    var meaning: String {
        switch self {
        case .success: "success (a batch: every item succeeded)"
        case .failed: "the run failed (a step failed, the input did not match the flow's input schema, a batch item failed), or a test case failed"
        case .usage: "usage: an unknown or missing option or argument, options that exclude each other, a malformed NAME=JSON or KEY=JSON, a resume that does not apply to the run (it succeeded, it is not paused, it waits for another key or for a value); from a server (--server): a request that does not apply to the run now (409) or a missing or wrong token (401)"
        case .invalid: "invalid: a flow or configuration that cannot be used (its YAML or JSON, its shape, references, schemas), an input or value that is not JSON, a flow file changed since its run started (resume without --allow-changed-flow); from a server: a request or flow it refuses (400, 413, 422)"
        case .notFound: "not found: a file named on the command line (flow, --input-file, --inputs-file, --config, --plugin-path) does not exist or cannot be read, a run id that is not in the store, a flow file that is gone since its run started, a plugin, node or route `plugins inspect` does not know, a run, flow or blob the server does not know (404)"
        case .plugin: "a plugin the flow needs could not be loaded; or the server (--server) could not be reached, failed (5xx) or did not answer as its API says; or `nodal serve` could not listen (the port is taken)"
        case .nativeExit: "native code (a plugin, an allowed FFI function) called exit() while the command ran; during a run the step is named"
        case .runTaken: "the run id is taken: the store has a run with that id already (--run-id reused), or another process runs it now (holds its lease), took it over, or answered its pause first"
        case .store: "the run store could not be opened or read, or (`nodal serve`) another `nodal serve` serves the same store file"
        case .paused: "the run paused for outside input (answer it with `nodal resume RUN_ID --value KEY=JSON`, on a server `nodal runs resume RUN_ID --server URL --value JSON`), or a --wait --timeout ran out before the run ended (it goes on)"
        case .canceled: "the run or batch was canceled (Ctrl-C)"
        }
    }

    var exitCode: ExitCode { ExitCode(rawValue) }

    /// The table as `nodal --help` prints it: meanings wrapped under their own column (help text
    /// is wrapped at 80 columns otherwise, back to the margin).
    static var table: String {
        "Exit codes:\n" + allCases.map { status in
            let code = String(status.rawValue)
            var lines: [String] = []
            var line = ""
            for word in status.meaning.split(separator: " ") {
                if !line.isEmpty && line.count + 1 + word.count > 70 {
                    lines.append(line)
                    line = ""
                }
                line += (line.isEmpty ? "" : " ") + word
            }
            lines.append(line)
            let indent = String(repeating: " ", count: 6)
            return "  " + code + String(repeating: " ", count: 4 - code.count) + lines.joined(separator: "\n" + indent)
        }.joined(separator: "\n")
    }
}
