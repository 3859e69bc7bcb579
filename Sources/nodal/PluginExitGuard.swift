import Nodal
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A plugin that calls `exit()` during a run must not look like success (`exit(0)` would make
/// `nodal` exit 0 with no output). The process's exit handlers run on the thread that called
/// `exit`: if that thread is inside a native call, the handler names the step and node, and ends
/// the process with status 70 instead. An exit from a thread of the plugin's own while a run is in
/// flight is reported the same way, without a step. Crashes (signals) are another matter: see
/// README, "Limits and safety"; process isolation is what contains them.
enum PluginExitGuard {
    static let exitStatus: Int32 = 70
    private static let runsInFlight = Atomic<Int>(0)
    private static let installed = Atomic<Bool>(false)
    /// Set before Nodal's own deliberate exits during a run (a second Ctrl-C).
    static let exitingOnPurpose = Atomic<Bool>(false)

    /// Runs `body` (a run, a resume, a batch, test cases) with the guard armed.
    static func guarding<T>(_ body: () async throws -> T) async rethrows -> T {
        if !installed.exchange(true, ordering: .acquiringAndReleasing) {
            atexit { PluginExitGuard.processIsExiting() }
        }
        runsInFlight.add(1, ordering: .releasing)
        defer { runsInFlight.subtract(1, ordering: .releasing) }
        return try await body()
    }

    private static func processIsExiting() {
        if let call = CurrentNativeCall.current {
            writeAll(2, "\nerror: the plugin of step '\(call.step)' (node \(call.node)) ended the process with exit() while the run was in flight; the run did not finish (exit status \(exitStatus))\n")
            _exit(exitStatus)
        }
        if runsInFlight.load(ordering: .acquiring) > 0 && !exitingOnPurpose.load(ordering: .acquiring) {
            writeAll(2, "\nerror: a plugin ended the process with exit() from a thread of its own while a run was in flight; the run did not finish (exit status \(exitStatus))\n")
            _exit(exitStatus)
        }
    }
}
