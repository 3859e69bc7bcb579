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
        discussion: """
            Exit codes:
              0   success
              1   the run (or a test case) failed
              64  usage error
              65  invalid flow or configuration
              69  a plugin could not be loaded
              70  a plugin (or an FFI function) ended the process with exit() mid-command; during a run the step is named
              73  another process runs this run now (it holds the run's lease)
              74  the run store could not be opened or read
              75  the run paused for outside input (answer it with `nodal resume RUN_ID --value KEY=JSON`)
              130 the run was canceled (Ctrl-C)
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, ResumeCommand.self, RunsCommand.self, CacheCommand.self, TestCommand.self, ValidateCommand.self, PluginsCommand.self])

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
