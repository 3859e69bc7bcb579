import ArgumentParser
import Nodal
import NodalClient

/// The server a command talks to (`nodal submit`, `nodal runs get|watch|cancel|resume --server`)
/// and the token it sends: `--token-file`, else `$NODAL_TOKEN`.
struct RemoteOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The Nodal server, e.g. http://127.0.0.1:7837 (as `nodal serve` prints it; /api/v1 may be left out).", valueName: "URL"))
    var server: String?

    @Option(name: .customLong("token-file"), help: "A file holding the server's bearer token. Default: $NODAL_TOKEN.")
    var tokenFile: String?

    /// Runs `body` with a client of `--server` (`command` names the command in the error when it
    /// is missing). A server that is down is reported at once (69), not retried.
    func withClient<T>(for command: String, _ body: (NodalClient) async throws -> T) async throws -> T {
        guard let server else { throw CLIError.usage("\(command) needs --server URL") }
        let token = try token()
        return try await NodalClient.withClient(baseURL: server, token: token) { client in
            guard client.apiRoot != nil else {
                throw CLIError.usage("--server \(server): write an http:// or https:// URL with a host, e.g. http://127.0.0.1:7837")
            }
            return try await body(client)
        }
    }

    /// The token file's text without surrounding whitespace, else NODAL_TOKEN, else none.
    func token() throws -> String? {
        if let tokenFile {
            try requireReadableFile(tokenFile, what: "--token-file")
            let text: String
            do { text = try FileSystem.readText(tokenFile) } catch { throw CLIError.invalid("--token-file \(tokenFile): \(error.reason)") }
            let token = String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
            guard !token.isEmpty else { throw CLIError.invalid("--token-file \(tokenFile) is empty") }
            return token
        }
        if let token = FileSystem.environment("NODAL_TOKEN"), !token.isEmpty { return token }
        return nil
    }
}

extension ExitStatus {
    /// sysexits' EX_UNAVAILABLE: the server cannot be reached, is stopping, or does not speak the API.
    static var unavailable: ExitStatus { .plugin }
    /// sysexits' EX_TEMPFAIL: a wait ran out; trying again later may succeed (shared with paused).
    static var timedOut: ExitStatus { .paused }
}

/// Where a failed call sits in the exit code table.
func exitStatus(of error: NodalClientError) -> ExitStatus {
    switch error.kind {
    case .transport, .invalidReply: return .unavailable
    case .timeout: return .timedOut
    case .flowRejected: return .invalid
    case .server(let status):
        switch status {
        case 404: return .notFound
        // Not in a state for it (cancel an ended run, resume one that is not paused), or no
        // token or the wrong one: the command, not the data, has to change.
        case 409, 401, 403: return .usage
        case 500...: return .unavailable
        default: return .invalid
        }
    }
}

/// `exiting` for commands that talk to a server: a `NodalClientError` is printed (with a hint
/// for a missing token) and ends the command with its code.
func remoteExiting(_ body: () async throws -> Void) async throws {
    try await exiting {
        do {
            try await body()
        } catch let error as NodalClientError {
            printError("error: \(error.message)")
            if error.kind == .server(status: 401) {
                printError("the server wants a token: --token-file FILE or NODAL_TOKEN")
            }
            throw exitStatus(of: error).exitCode
        }
    }
}

/// Where a run's end sits in the table, as for `nodal run`.
func exitStatus(of status: ExecutionStatus) -> ExitStatus {
    switch status {
    case .completed: .success
    case .paused: .paused
    case .cancelled: .canceled
    case .failed, .recoveryFailed, .running, .unknown: .failed
    }
}

/// A summary in text: `run ID: STATUS, N/M items done (...)`, then its flow and times.
func summaryText(_ summary: RunSummary) -> String {
    var lines = ["run \(DisplayText.escaped(summary.runID)): \(DisplayText.escaped(summary.status.description)), \(summary.items)"]
    if let name = summary.flowName ?? summary.flowID { lines.append("  flow: \(DisplayText.escaped(name))") }
    if let created = summary.json["createdAt"]?.stringValue { lines.append("  created: \(DisplayText.escaped(created))") }
    if let completed = summary.json["completedAt"]?.stringValue { lines.append("  completed: \(DisplayText.escaped(completed))") }
    return lines.joined(separator: "\n")
}

/// One item's result in text: `item 3: completed in 12.0 ms: {"x":1}` or `item 4: failed: CODE: message`.
func resultText(_ result: ItemResult) -> String {
    var line = "item \(result.itemIndex): \(DisplayText.escaped(result.status.description))"
    if let ms = result.executionTimeMs { line += " in \(formatMilliseconds(ms)) ms" }
    if result.status == .completed, let output = result.output {
        let text = output.serialized()
        line += ": " + (text.count > 200 ? String(text.prefix(200)) + "..." : text)
    } else if result.errorCode != nil || result.errorMessage != nil {
        line += ": " + DisplayText.escaped([result.errorCode, result.errorMessage].compactMap { $0 }.joined(separator: ": "))
    }
    return line
}

/// `{summary, results?}` as JSON.
func runJSON(_ summary: RunSummary, _ results: [ItemResult]?) -> JSON {
    var object: JSONObject = ["summary": summary.json]
    if let results { object["results"] = .array(results.map(\.json)) }
    return .object(object)
}

/// Seconds given on the command line as a `Duration`; refused unless positive and finite.
func seconds(_ value: Double, option: String) throws -> Duration {
    guard value.isFinite, value > 0, value <= 1e9 else { throw CLIError.usage("\(option) must be a positive number of seconds, not \(value)") }
    return .milliseconds(Int64((value * 1000).rounded(.up)))
}
