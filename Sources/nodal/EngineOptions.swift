import ArgumentParser
import Nodal
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
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
    func makeEngine(forFlowAt flowPath: String?) throws -> Engine {
        guard maxOutputBytes >= 0 else { throw CLIError.usage("--max-output-bytes must be 0 or more, not \(maxOutputBytes)") }
        try checkPluginPaths()
        let engine = Engine(configuration: try loadConfiguration(forFlowAt: flowPath), extensions: [.ffi], maxOutputBytes: maxOutputBytes)
        let refusals = engine.loadPlugins(searchPath: Engine.pluginSearchPath(explicit: pluginPaths, configuration: engine.configuration))
        for refusal in refusals { printError("warning: \(refusal)") }
        return engine
    }

    /// A folder named on the command line that is not there is a typo, not a default to skip:
    /// a usage error (64).
    func checkPluginPaths() throws {
        for path in pluginPaths where access(path, F_OK) != 0 {
            throw CLIError.usage("--plugin-path \(path): no such file or folder")
        }
    }

    /// `--config`, else `NODAL_CONFIG`, else the config file found beside the flow or in the
    /// working directory (which may not grant powers) with the user's own grants
    /// (`NodalConfig.forFlow(at:named:)`).
    func loadConfiguration(forFlowAt flowPath: String?) throws -> NodalConfig {
        do { return try NodalConfig.forFlow(at: flowPath, named: config) } catch { throw CLIError.invalid(error.description) }
    }
}

/// Failures that end a command with a documented exit code.
enum CLIError: Error, CustomStringConvertible {
    case invalid(String)
    case plugin(String)
    case usage(String)
    /// The run store cannot be opened or read (74: an I/O error).
    case store(String)

    var description: String {
        switch self {
        case .invalid(let message), .plugin(let message), .usage(let message), .store(let message): message
        }
    }

    var exitCode: ExitCode {
        switch self {
        case .invalid: ExitCode(65)
        case .plugin: ExitCode(69)
        case .usage: ExitCode(64)
        case .store: ExitCode(74)
        }
    }
}

/// Turns library errors into the CLI's exit codes, printing the message first.
func exiting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        printError("error: \(error)")
        throw error.exitCode
    } catch let error as FlowError {
        printError("error: \(error)")
        throw ExitCode(65)
    } catch let error as PluginLoadError {
        printError("error: \(error)")
        throw ExitCode(69)
    } catch let error as RunStoreError {
        printError("error: \(error)")
        throw ExitCode(74)
    } catch let error as ResumeError {
        printError("error: \(error)")
        switch error.kind {
        case .flow: throw ExitCode(65)
        case .valueNeeded, .wrongKey, .notPaused: throw ExitCode(64)
        case .owned: throw ExitCode(73)
        default: throw ExitCode(1)
        }
    }
}

/// Reads a flow; its sub-flow files may come from the folders the configuration allows. What
/// reading let pass (unknown keys, unless `strict`) is printed to standard error as warnings.
func loadFlow(_ path: String, configuration: NodalConfig, strict: Bool = false) throws -> Flow {
    let flow: Flow
    do { flow = try Flow(contentsOfFile: path, configuration: configuration, strict: strict) } catch { throw CLIError.invalid(error.description) }
    for warning in flow.warnings { printError("warning: \(warning)") }
    return flow
}

func parseJSONArgument(_ text: String, what: String) throws -> JSON {
    do { return try JSON(parsing: text) } catch { throw CLIError.usage("\(what) is not valid JSON: \(error)") }
}
