import ArgumentParser
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

@main
struct NodalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodal",
        abstract: "Run workflows whose nodes are plugins.",
        discussion: ExitStatus.table + "\n\nShell completion: nodal --generate-completion-script bash|zsh|fish (see README).",
        version: "0.1.0",
        subcommands: subcommands)

    #if NODAL_ENGINE_ONLY
    // Built without the run service (Package.swift: NODAL_ENGINE_ONLY).
    static let subcommands: [any ParsableCommand.Type] = [RunCommand.self, ResumeCommand.self, RunsCommand.self, CacheCommand.self, TestCommand.self, ValidateCommand.self, PluginsCommand.self, PluginHostCommand.self]
    #else
    static let subcommands: [any ParsableCommand.Type] = [RunCommand.self, SubmitCommand.self, ServeCommand.self, WorkerCommand.self, WorkersCommand.self, ResumeCommand.self, RunsCommand.self, CacheCommand.self, TestCommand.self, ValidateCommand.self, PluginsCommand.self, PluginHostCommand.self]
    #endif

    /// ArgumentParser's own `main`, with `NativeExitGuard` armed while the command runs.
    static func main() async {
        NativeExitGuard.arm()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            NativeExitGuard.disarm()
            exit(withError: error)
        }
        NativeExitGuard.disarm()
    }
}

/// Plugins run in the process, so one that calls `exit()` (or `exit` reached through an FFI call)
/// ends `nodal` with a status of its choosing: `exit(0)` in the middle of a run would look like a
/// success. While armed (from the start of `main` until the command itself exits), an exit that
/// `nodal` did not make ends the process with status 70 and says so on standard error.
enum NativeExitGuard {
    private static let armed = Atomic<Bool>(false)
    private static let installed: Bool = {
        atexit {
            guard NativeExitGuard.armed.load(ordering: .acquiring) else { return }
            writeAll(2, "\nerror: native code (a plugin or an FFI function) called exit() while nodal was running; the command did not finish (exit code 70)\n")
            _exit(70)
        } == 0
    }()

    static func arm() {
        _ = installed
        armed.store(true, ordering: .releasing)
    }

    /// Before every exit `nodal` makes itself.
    static func disarm() { armed.store(false, ordering: .releasing) }
}
