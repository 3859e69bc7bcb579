import ArgumentParser
import Nodal

#if canImport(Glibc)
import Glibc
#endif

/// Options every command that needs an engine shares.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (Stepflow's stepflow-config.yml layout), trusted to grant powers (ffi: allow:, files: allow:, plugin paths). Default: $NODAL_CONFIG; else nodal-config.yml or stepflow-config.yml beside the flow, then in the working directory (which may not grant powers), plus the grants of ~/.config/nodal/nodal-config.yml.")
    var config: String?

    @Option(name: .customLong("plugin-path"), help: "A plugin folder or file; searched before NODAL_PLUGIN_PATH, the config's plugin paths and the default locations. Repeatable.")
    var pluginPaths: [String] = []

    @Option(name: .customLong("max-output-bytes"), help: "The largest output one plugin call may write; a larger one fails its step with OUTPUT_TOO_LARGE. Default: 67108864 (64 MiB).")
    var maxOutputBytes: Int = Engine.defaultMaxOutputBytes

    @Flag(name: .long, help: "Refuse a flow with keys Nodal does not know (on the flow or a step) instead of ignoring them with a warning, as Stepflow ignores them.")
    var strict = false

    /// Builds an engine for a flow file: its configuration and every plugin on the search path.
    /// Refused plugins are reported on standard error and do not stop the command.
    /// - Parameter blockingThreads: the blocking pool's size (nil: the engine's default).
    func makeEngine(forFlowAt flowPath: String?, blockingThreads: Int? = nil, leaseDuration: Duration = .seconds(30)) throws -> Engine {
        guard maxOutputBytes >= 0 else { throw CLIError.usage("--max-output-bytes must be 0 or more, not \(maxOutputBytes)") }
        try checkPluginPaths()
        let engine = Engine(
            configuration: try loadConfiguration(forFlowAt: flowPath), blockingThreads: blockingThreads, leaseDuration: leaseDuration,
            extensions: [.ffi], logger: LogLines.logger, maxOutputBytes: maxOutputBytes)
        let refusals = engine.loadPlugins(searchPath: Engine.pluginSearchPath(explicit: pluginPaths, configuration: engine.configuration))
        for refusal in refusals { printError("warning: \(refusal)") }
        return engine
    }

    /// A folder named on the command line that is not there is a typo, not a default to skip:
    /// `notFound` (66), as for other files named on the command line.
    func checkPluginPaths() throws {
        for path in pluginPaths where access(path, F_OK) != 0 {
            throw CLIError.notFound("--plugin-path \(path): no such file or folder")
        }
    }

    /// `--config`, else `NODAL_CONFIG`, else the config file found beside the flow or in the
    /// working directory (which may not grant powers) with the user's own grants
    /// (`NodalConfig.forFlow(at:named:)`). A named file that is not there is `notFound` (66).
    func loadConfiguration(forFlowAt flowPath: String?) throws -> NodalConfig {
        if let config {
            try requireReadableFile(config, what: "--config")
        } else if let named = FileSystem.environment("NODAL_CONFIG"), !named.isEmpty {
            try requireReadableFile(named, what: "NODAL_CONFIG")
        }
        do { return try NodalConfig.forFlow(at: flowPath, named: config) } catch { throw CLIError.invalid(error.description) }
    }
}

/// Failures that end a command with a documented exit code (`ExitStatus`).
enum CLIError: Error, CustomStringConvertible {
    case invalid(String)
    case plugin(String)
    case usage(String)
    /// A file named on the command line, or a run id, that is not there (66).
    case notFound(String)
    /// The run store cannot be opened or read (74: an I/O error).
    case store(String)

    var description: String {
        switch self {
        case .invalid(let message), .plugin(let message), .usage(let message), .notFound(let message), .store(let message): message
        }
    }

    var exitCode: ExitCode {
        switch self {
        case .invalid: ExitStatus.invalid.exitCode
        case .plugin: ExitStatus.plugin.exitCode
        case .usage: ExitStatus.usage.exitCode
        case .notFound: ExitStatus.notFound.exitCode
        case .store: ExitStatus.store.exitCode
        }
    }
}

/// A file named on the command line must be there and readable: otherwise `notFound` (66),
/// naming `what` (`--input-file`) and the system's reason. What is in it is checked by its reader.
func requireReadableFile(_ path: String, what: String) throws {
    if FileSystem.isDirectory(path) { throw CLIError.notFound("\(what) \(path): is a folder, not a file") }
    if access(path, R_OK) != 0 { throw CLIError.notFound("\(what) \(path): \(FileSystem.errnoText())") }
}

/// Turns library errors into the CLI's exit codes (`ExitStatus`), printing the message first.
func exiting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        printError("error: \(error)")
        throw error.exitCode
    } catch let error as FlowError {
        printError("error: \(error)")
        throw ExitStatus.invalid.exitCode
    } catch let error as PluginLoadError {
        printError("error: \(error)")
        throw ExitStatus.plugin.exitCode
    } catch let error as RunStoreError {
        printError("error: \(error)")
        throw ExitStatus.store.exitCode
    } catch let error as ResumeError {
        printError("error: \(error)")
        throw exitStatus(of: error).exitCode
    }
}

/// Where each refused resume sits in the table.
func exitStatus(of error: ResumeError) -> ExitStatus {
    switch error.kind {
    case .notFound, .noFlowFile: .notFound
    case .flow, .flowChanged: .invalid
    case .alreadySucceeded, .valueNeeded, .wrongKey, .notPaused: .usage
    case .owned, .alreadyResumed: .runTaken
    }
}

/// Reads a flow; its sub-flow files may come from the folders the configuration allows. What
/// reading let pass (unknown keys, unless `strict`) is printed to standard error as warnings.
func loadFlow(_ path: String, configuration: NodalConfig, strict: Bool = false) throws -> Flow {
    try requireReadableFile(path, what: "flow file")
    let flow: Flow
    do { flow = try Flow(contentsOfFile: path, configuration: configuration, strict: strict) } catch { throw CLIError.invalid(error.description) }
    for warning in flow.warnings { printError("warning: \(warning)") }
    return flow
}

func parseJSONArgument(_ text: String, what: String) throws -> JSON {
    do { return try JSON(parsing: text) } catch { throw CLIError.invalid("\(what) is not valid JSON: \(error)") }
}
